"""me/export/: everything stored about the patient, as one JSON download."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from patients.models import ReminderPreference
from prescriptions import checkins
from prescriptions.models import Alert, CheckIn, Reminder
from tests.conftest import client_for
from tests.factories import CheckInFactory, PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2024, 6, 20, 15, 0, tzinfo=UTC)


def history(patient, days, *, alert="no_check_in"):
    prescription = PrescriptionFactory(patient=patient, start_date=date(2024, 6, 1))
    for day in range(days):
        performed = datetime(2024, 6, 1, 12, 0, tzinfo=UTC) + timedelta(days=day)
        CheckInFactory(prescription=prescription, slot="morning", performed_at=performed)
        Reminder.objects.create(
            prescription=prescription,
            slot="morning",
            local_date=performed.date(),
            fire_at=performed,
            channel="email",
            status="sent",
        )
    Alert.objects.create(patient=patient, prescription=prescription, kind=alert)
    return prescription


def export(patient):
    return client_for(patient.user).get("/api/v1/me/export/")


def test_it_downloads_everything_about_the_patient(patient_a, other_patient):
    prescription = history(patient_a, 3)
    history(other_patient, 2)
    ReminderPreference.objects.create(patient=patient_a, channel="sms")

    response = export(patient_a)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="knee-rocks-2024-06-20.json"'
    document = json.loads(response.content)
    assert document["patient"]["email"] == patient_a.email
    assert document["patient"]["timezone"] == patient_a.timezone
    assert document["reminder_preferences"]["channel"] == "sms"
    [rx] = document["prescriptions"]
    assert rx["id"] == prescription.id
    assert [slot["kind"] for slot in rx["slots"]] == ["morning", "bedtime"]
    assert [change["status"] for change in rx["history"]] == ["active"]
    assert len(document["check_ins"]) == 3
    assert {c["prescription_id"] for c in document["check_ins"]} == {prescription.id}
    assert len(document["reminders"]) == 3
    assert [alert["kind"] for alert in document["alerts"]] == ["no_check_in"]


def test_it_keeps_what_a_corrected_or_withdrawn_check_in_was(patient_a):
    prescription = history(patient_a, 2)
    first, second = CheckIn.objects.filter(prescription=prescription).order_by("id")
    checkins.checkin_correct(checkin=first, by=patient_a.user, changes={"pain_before": 1})
    checkins.checkin_withdraw(checkin=second, by=patient_a.user)

    document = json.loads(export(patient_a).content)

    assert len(document["check_ins"]) == 1
    corrected, withdrawn = document["check_in_corrections"]
    assert (corrected["check_in_id"], corrected["kind"]) == (first.id, "corrected")
    assert corrected["after"]["pain_before"] == 1
    assert (withdrawn["check_in_id"], withdrawn["kind"], withdrawn["after"]) == (
        second.id,
        "withdrawn",
        None,
    )
    assert withdrawn["before"]["pain_before"] == second.pain_before


def test_it_leaves_out_the_webhook_secret(patient_a):
    client_for(patient_a.user).patch(
        "/api/v1/me/reminder-preferences/",
        {"channel": "webhook", "webhook_url": "https://hooks.example.com/kr"},
        format="json",
    )
    secret = ReminderPreference.objects.get(patient=patient_a).webhook_secret

    document = json.loads(export(patient_a).content)

    assert document["reminder_preferences"]["webhook_url"] == "https://hooks.example.com/kr"
    assert "webhook_secret" not in document["reminder_preferences"]
    assert secret not in json.dumps(document)


def test_it_runs_the_same_queries_however_long_the_history(
    patient_a, other_patient, django_assert_num_queries
):
    history(patient_a, 1)
    history(other_patient, 20)
    history(other_patient, 5, alert="low_adherence")
    small, large = client_for(patient_a.user), client_for(other_patient.user)
    # + 1: the audit entry of the export; + 1: the questionnaire responses.
    with django_assert_num_queries(12 + 1 + 1):
        small.get("/api/v1/me/export/")

    with django_assert_num_queries(12 + 1 + 1):
        large.get("/api/v1/me/export/")


def test_it_is_for_patients_only(clinician_a, staff_a):
    for user in (clinician_a, staff_a):
        assert client_for(user).get("/api/v1/me/export/").status_code == 403
