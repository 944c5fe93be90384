"""One door per change, patients: enrol, update (the clinic's and the patient's own me/),
archive and restore each commit their change with exactly one event, and a failure after
the change, before the commit, leaves neither."""

import pytest

from clinic.models import Event
from patients import services
from patients.models import Patient
from tests.conftest import client_for
from tests.events_support import (
    Boom,
    events_since,
    failing_event_writes,
    last_event_id,
    rolled_back,
)

pytestmark = pytest.mark.django_db


def enrol(clinic, by, email="new@example.test"):
    return services.patient_enrol(
        clinic=clinic, enrolled_by=by, first_name="Nia", last_name="Park", email=email
    ).patient


def test_enrolling_commits_the_patient_and_patient_enrolled(clinic_a, clinician_a):
    cursor = last_event_id()
    patient = enrol(clinic_a, clinician_a)

    assert events_since(cursor) == [("patient.enrolled", {"patient": patient.id})]
    assert Event.objects.get(id__gt=cursor).clinic_id == clinic_a.id


def test_an_enrolment_that_fails_before_commit_leaves_neither(clinic_a, clinician_a):
    with rolled_back():
        enrol(clinic_a, clinician_a)
    assert not Patient.objects.filter(email="new@example.test").exists()


def test_an_enrolment_whose_event_fails_keeps_no_patient(clinic_a, clinician_a, monkeypatch):
    failing_event_writes(monkeypatch)
    with pytest.raises(Boom):
        enrol(clinic_a, clinician_a)
    assert not Patient.objects.filter(email="new@example.test").exists()


def test_an_update_commits_with_patient_updated(patient_a):
    cursor = last_event_id()
    services.patient_update(patient=patient_a, phone="+1 555 0100")

    assert events_since(cursor) == [("patient.updated", {"patient": patient_a.id})]
    assert Patient.objects.get(id=patient_a.id).phone == "+1 555 0100"


def test_an_update_that_fails_before_commit_leaves_neither(patient_a):
    phone = patient_a.phone
    with rolled_back():
        services.patient_update(patient=patient_a, phone="+1 555 0100")
    assert Patient.objects.get(id=patient_a.id).phone == phone


def test_an_update_whose_event_fails_changes_nothing(patient_a, monkeypatch):
    failing_event_writes(monkeypatch)
    with pytest.raises(Boom):
        services.patient_update(patient=patient_a, timezone_name="Asia/Tokyo")
    assert Patient.objects.get(id=patient_a.id).timezone != "Asia/Tokyo"


def test_a_clinicians_record_update_with_a_channel_is_one_event(patient_a):
    cursor = last_event_id()
    services.patient_record_update(patient=patient_a, channel="email", last_name="Moss-Hill")
    assert events_since(cursor) == [("patient.updated", {"patient": patient_a.id})]


def test_a_patients_own_zone_change_on_me_is_patient_updated_and_its_zone_changed(patient_a):
    cursor = last_event_id()
    response = client_for(patient_a.user).patch(
        "/api/v1/me/", {"timezone": "Asia/Tokyo"}, format="json"
    )
    assert response.status_code == 200
    assert events_since(cursor) == [
        ("patient.timezone_changed", {"patient": patient_a.id}),
        ("patient.updated", {"patient": patient_a.id}),
    ]


def test_an_update_that_keeps_the_zone_writes_no_zone_change(patient_a):
    cursor = last_event_id()
    services.patient_update(patient=patient_a, timezone_name=patient_a.timezone, first_name="Adah")
    assert events_since(cursor) == [("patient.updated", {"patient": patient_a.id})]


def test_archive_and_restore_each_commit_one_event(patient_a, clinician_a):
    cursor = last_event_id()
    services.patient_archive(patient=patient_a, by=clinician_a, reason="moved away")
    services.patient_restore(patient=patient_a)

    assert events_since(cursor) == [
        ("patient.archived", {"patient": patient_a.id}),
        ("patient.updated", {"patient": patient_a.id}),
    ]


def test_an_archive_that_fails_before_commit_leaves_neither(patient_a, clinician_a):
    with rolled_back():
        services.patient_archive(patient=patient_a, by=clinician_a)
    assert Patient.objects.get(id=patient_a.id).archived_at is None


def test_an_archive_whose_event_fails_keeps_the_patient_in_care(
    patient_a, clinician_a, monkeypatch
):
    failing_event_writes(monkeypatch)
    with pytest.raises(Boom):
        services.patient_archive(patient=patient_a, by=clinician_a)
    assert Patient.objects.get(id=patient_a.id).archived_at is None


def test_a_refused_archive_writes_no_event(patient_a, clinician_a):
    services.patient_archive(patient=patient_a, by=clinician_a)
    cursor = last_event_id()
    with pytest.raises(Exception, match="already archived"):
        services.patient_archive(patient=patient_a, by=clinician_a)
    assert events_since(cursor) == []
