"""The patient's own page at /my/: sign in, progress, check-in, reminders, data."""

import json
import uuid
from datetime import UTC, date, datetime, time

import pytest
from django.test import Client

from patients.models import ReminderPreference
from prescriptions.models import CheckIn, Prescription
from tests.conftest import client_for
from tests.factories import PASSWORD, CheckInFactory, PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2024, 6, 10, 13, 0, tzinfo=UTC)  # 09:00 in New York


@pytest.fixture
def prescription(patient_a):
    return PrescriptionFactory(patient=patient_a, start_date=date(2024, 6, 1), heat_prep=True)


@pytest.fixture
def signed_in(patient_a):
    client = Client()
    response = client.post("/my/login/", {"email": patient_a.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_it_sends_a_signed_out_visitor_to_the_sign_in_page():
    response = Client().get("/my/")

    assert response.status_code == 302
    assert response["Location"] == "/my/login/?next=/my/"


def test_it_keeps_the_clinic_team_out(clinician_a):
    response = Client().post("/my/login/", {"email": clinician_a.username, "password": PASSWORD})

    assert response.status_code == 400
    assert "do not match" in response.content.decode()


def test_it_shows_instructions_streak_calendar_and_export(signed_in, prescription):
    for day in (7, 8, 9):
        for slot, hour in (("morning", 12), ("bedtime", 23)):
            CheckInFactory(
                prescription=prescription,
                slot=slot,
                performed_at=datetime(2024, 6, day, hour, 0, tzinfo=UTC),
            )

    page = signed_in.get("/my/").content.decode()

    assert 'data-testid="streak">3<' in page
    assert "Lie on your back" in page  # the protocol's steps
    assert "heat first" in page
    assert "/cal/" in page
    assert 'href="/my/export.json"' in page
    assert '<svg class="chart"' in page
    assert "style=" not in page and "<script" not in page


def test_it_invites_night_sessions_only_when_the_prescription_does(signed_in, prescription):
    assert "if back pain wakes you" in signed_in.get("/my/").content.decode()

    prescription.as_needed = False
    prescription.save()

    assert "if back pain wakes you" not in signed_in.get("/my/").content.decode()


def test_it_records_a_check_in_once_however_often_the_form_is_sent(signed_in, prescription):
    body = {"slot": "morning", "pain_before": 5, "pain_after": 2, "form_id": str(uuid.uuid4())}

    first = signed_in.post("/my/check-in/", body)
    second = signed_in.post("/my/check-in/", body)

    assert first.status_code == second.status_code == 302
    checkin = CheckIn.objects.get()
    assert (checkin.slot, checkin.pain_before, checkin.local_date) == (
        "morning",
        5,
        date(2024, 6, 10),
    )
    assert "already saved" in signed_in.get("/my/").content.decode()


def test_it_shows_the_stop_page_for_a_warning_sign(signed_in, prescription):
    body = {
        "slot": "other",
        "pain_before": 7,
        "red_flags": ["bladder_bowel"],
        "form_id": str(uuid.uuid4()),
    }

    page = signed_in.post("/my/check-in/", body).content.decode()

    assert "Get urgent care now" in page
    prescription.refresh_from_db()
    assert prescription.status == Prescription.Status.PAUSED


def test_it_saves_reminder_settings_with_quiet_hours(signed_in, patient_a, prescription):
    response = signed_in.post(
        "/my/reminders/", {"channel": "none", "quiet_start": "22:00", "quiet_end": "07:00"}
    )

    assert response.status_code == 302
    preference = ReminderPreference.objects.get(patient=patient_a)
    assert (preference.channel, preference.quiet_start, preference.quiet_end) == (
        "none",
        time(22, 0),
        time(7, 0),
    )


def test_it_refuses_text_messages_without_a_phone(signed_in, patient_a, prescription):
    patient_a.phone = ""
    patient_a.save()

    response = signed_in.post("/my/reminders/", {"channel": "sms"})

    assert response.status_code == 400
    assert "Add a phone number before choosing text messages" in response.content.decode()
    assert not ReminderPreference.objects.filter(channel="sms").exists()


def test_it_downloads_the_export(signed_in, patient_a, prescription):
    response = signed_in.get("/my/export.json")

    assert response["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.content)["patient"]["id"] == patient_a.id


def test_it_points_a_patient_at_the_staff_sign_in_to_their_own_page(patient_a):
    response = Client().post("/staff/login/", {"username": patient_a.email, "password": PASSWORD})

    assert "patients sign in at /my/login/" in response.content.decode()


def enrolled(clinician):
    body = client_for(clinician).post(
        "/api/v1/patients/",
        {"first_name": "Nora", "last_name": "Kim", "email": "nora@example.test"},
    )
    return body.data["activation_code"]


def test_it_lets_a_new_patient_start_with_the_clinic_code_and_no_app(clinician_a):
    code = enrolled(clinician_a)
    client = Client()

    response = client.post(
        "/my/activate/", {"code": code.lower(), "password": "nora-picks-a-long-password"}
    )

    assert response.status_code == 302
    assert "Hi Nora" in client.get("/my/").content.decode()
    again = Client().post(
        "/my/login/", {"email": "nora@example.test", "password": "nora-picks-a-long-password"}
    )
    assert again.status_code == 302


def test_it_refuses_a_used_code_or_a_weak_password(clinician_a):
    code = enrolled(clinician_a)

    weak = Client().post("/my/activate/", {"code": code, "password": "123"})
    Client().post("/my/activate/", {"code": code, "password": "nora-picks-a-long-password"})
    used = Client().post("/my/activate/", {"code": code, "password": "another-long-password"})

    assert weak.status_code == used.status_code == 400
    assert "too short" in weak.content.decode()
    assert "may have been used already" in used.content.decode()
