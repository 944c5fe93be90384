"""What a clinician does from the pages: through the API's services, errors beside the
field; staff are refused (403) and another clinic's objects are not found (404)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from patients.models import Patient
from patients.services import activation_code_find
from prescriptions.models import Alert, Prescription
from tests.conftest import signed_in
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 18, tzinfo=UTC)


ENROL = {
    "first_name": "Nora",
    "last_name": "Kim",
    "email": "Nora.Kim@example.com",
    "phone": "+49 30 1234567",
    "timezone": "Europe/Berlin",
}


def test_it_enrols_a_patient_and_shows_the_code_once_on_their_page(clinician_a):
    client = signed_in(clinician_a)

    response = client.post("/staff/patients/new/", ENROL)

    patient = Patient.objects.get(email="nora.kim@example.com")
    assert patient.clinic == clinician_a.clinic
    assert patient.timezone == "Europe/Berlin"
    assert response.status_code == 302
    assert response["Location"] == f"/staff/patients/{patient.id}/"
    first = client.get(response["Location"])
    code = first.context["enrolled"]["code"]
    assert code in first.content.decode()
    assert "no-store" in first["Cache-Control"]
    assert "http://testserver/my/" in first.content.decode()
    assert activation_code_find(code).patient == patient
    assert code not in client.get(f"/staff/patients/{patient.id}/").content.decode()


def test_it_shows_the_code_only_on_the_new_patients_page(clinician_a, patient_a):
    client = signed_in(clinician_a)
    client.post("/staff/patients/new/", ENROL)

    other = client.get(f"/staff/patients/{patient_a.id}/")
    assert 'id="activation-code"' not in other.content.decode()
    patient = Patient.objects.get(email="nora.kim@example.com")
    assert 'id="activation-code"' in client.get(f"/staff/patients/{patient.id}/").content.decode()


def test_it_emails_a_patient_not_yet_activated_an_activation_link(
    clinician_a, django_capture_on_commit_callbacks
):
    client = signed_in(clinician_a)
    client.post("/staff/patients/new/", ENROL)
    patient = Patient.objects.get(email="nora.kim@example.com")
    page = client.get(f"/staff/patients/{patient.id}/").content.decode()
    assert "Email an activation link" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/patients/{patient.id}/invite/", follow=True)

    assert "on its way to nora.kim@example.com" in response.content.decode()
    [message] = mail.outbox
    assert "http://testserver/my/activate/" in message.body


def test_it_offers_no_activation_link_for_an_activated_patient_or_to_staff(
    clinician_a, staff_a, patient_a
):
    assert patient_a.user.is_active
    page = signed_in(clinician_a).get(f"/staff/patients/{patient_a.id}/").content.decode()
    assert "Email an activation link" not in page
    response = signed_in(staff_a).post(f"/staff/patients/{patient_a.id}/invite/")
    assert response.status_code == 403


def test_it_shows_enrolment_errors_beside_their_fields(clinician_a, patient_a):
    response = signed_in(clinician_a).post(
        "/staff/patients/new/",
        {**ENROL, "email": patient_a.email, "timezone": "Mars/Olympus", "phone": "call me"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    for field in ("email", "timezone", "phone"):
        assert f'id="id_{field}_error"' in page
    assert "already in use" in page
    assert not Patient.objects.filter(first_name="Nora").exists()


def test_it_prescribes_with_the_chosen_slots(clinician_a, patient_a):
    with time_machine.travel(NOW, tick=False):
        response = signed_in(clinician_a).post(
            f"/staff/patients/{patient_a.id}/prescribe/",
            {
                "start_date": "2026-05-20",
                "morning": "on",
                "morning_time": "06:30",
                "bedtime": "on",
                "bedtime_time": "22:15",
                "heat_prep": "on",
                "notes": "Gentle, small movements.",
            },
        )

    assert response.status_code == 302
    rx = patient_a.prescriptions.get()
    assert sorted((s.kind, s.time.strftime("%H:%M")) for s in rx.slots.all()) == [
        ("bedtime", "22:15"),
        ("morning", "06:30"),
    ]
    assert rx.heat_prep and not rx.as_needed
    assert rx.clinician == clinician_a


def test_it_refuses_an_overlapping_prescription_and_a_missing_time(clinician_a, patient_a):
    PrescriptionFactory(patient=patient_a, clinician=clinician_a)
    client = signed_in(clinician_a)
    url = f"/staff/patients/{patient_a.id}/prescribe/"

    overlap = client.post(
        url, {"start_date": date.today().isoformat(), "morning": "on", "morning_time": "07:00"}
    )
    no_time = client.post(url, {"start_date": date.today().isoformat(), "bedtime": "on"})

    assert overlap.status_code == 400
    assert "already has an open prescription" in overlap.content.decode()
    assert no_time.status_code == 400
    assert 'id="id_bedtime_time_error"' in no_time.content.decode()
    assert patient_a.prescriptions.count() == 1


def test_it_changes_the_slots(clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)

    response = signed_in(clinician_a).post(
        f"/staff/prescriptions/{rx.id}/plan/",
        {"bedtime": "on", "bedtime_time": "21:45", "as_needed": "on"},
    )

    assert response.status_code == 302
    assert [(s.kind, s.time.strftime("%H:%M")) for s in rx.slots.all()] == [("bedtime", "21:45")]


def test_it_pauses_from_an_earlier_local_time_and_resumes(clinician_a, patient_a):
    patient_a.timezone = "Asia/Tokyo"
    patient_a.save()
    with time_machine.travel(NOW, tick=False):
        rx = PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 1))
        client = signed_in(clinician_a)
        paused = client.post(
            f"/staff/prescriptions/{rx.id}/pause/",
            {"effective": "2026-05-20T09:30", "reason": "Red flag: seen in clinic"},
        )
        resumed = client.post(f"/staff/prescriptions/{rx.id}/resume/")

    assert paused.status_code == resumed.status_code == 302
    pause, _ = rx.status_changes.order_by("effective_at")[1:]
    # 09:30 in Tokyo is 00:30 UTC.
    assert pause.effective_at == datetime(2026, 5, 20, 0, 30, tzinfo=UTC)
    assert pause.reason == "Red flag: seen in clinic" and pause.recorded_by == clinician_a
    rx.refresh_from_db()
    assert rx.status == Prescription.Status.ACTIVE


def test_it_shows_a_status_change_refused_by_the_service_beside_the_field(clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    future = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    response = signed_in(clinician_a).post(
        f"/staff/prescriptions/{rx.id}/pause/", {"effective": future}
    )

    assert response.status_code == 400
    assert 'id="id_effective_error"' in response.content.decode()
    assert "in the future" in response.content.decode()
    rx.refresh_from_db()
    assert rx.status == Prescription.Status.ACTIVE


@pytest.mark.parametrize("change", ["pause", "resume", "end"])
def test_it_refuses_to_change_a_prescription_past_its_end_date(clinician_a, patient_a, change):
    with time_machine.travel(NOW, tick=False):
        rx = PrescriptionFactory(
            patient=patient_a, start_date=date(2026, 5, 1), end_date=date(2026, 5, 15)
        )
        response = signed_in(clinician_a).post(
            f"/staff/prescriptions/{rx.id}/{change}/", {"reason": "Done"}
        )

    assert response.status_code == 400
    assert "This prescription has ended and can no longer change." in response.content.decode()
    assert rx.status_changes.count() == 1


def test_it_acknowledges_an_alert_with_a_note(clinician_a, patient_a):
    alert = Alert.objects.create(patient=patient_a, kind="red_flag")

    response = signed_in(clinician_a).post(
        f"/staff/alerts/{alert.id}/acknowledge/",
        {"note": "Phoned; MRI booked", "next": f"/staff/patients/{patient_a.id}/"},
    )

    assert response["Location"] == f"/staff/patients/{patient_a.id}/"
    alert.refresh_from_db()
    assert alert.note == "Phoned; MRI booked"
    assert alert.acknowledged_by == clinician_a


def test_it_refuses_a_note_too_long_beside_the_field(clinician_a, patient_a):
    alert = Alert.objects.create(patient=patient_a, kind="red_flag")

    response = signed_in(clinician_a).post(
        f"/staff/alerts/{alert.id}/acknowledge/", {"note": "x" * 2001}
    )

    assert response.status_code == 400
    assert 'id="id_note_error"' in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_it_never_sends_a_clinician_off_the_site_after_acknowledging(clinician_a, patient_a):
    alert = Alert.objects.create(patient=patient_a, kind="red_flag")

    response = signed_in(clinician_a).post(
        f"/staff/alerts/{alert.id}/acknowledge/", {"next": "//evil.example/staff/"}
    )

    assert response["Location"] == "/staff/"


@pytest.fixture
def targets(patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    alert = Alert.objects.create(patient=patient_a, kind="red_flag")
    return [
        ("/staff/patients/new/", ENROL),
        (
            f"/staff/patients/{patient_a.id}/prescribe/",
            {"start_date": "2026-05-20", "morning": "on", "morning_time": "07:00"},
        ),
        (f"/staff/prescriptions/{rx.id}/plan/", {"morning": "on", "morning_time": "07:00"}),
        (f"/staff/prescriptions/{rx.id}/pause/", {}),
        (f"/staff/prescriptions/{rx.id}/resume/", {}),
        (f"/staff/prescriptions/{rx.id}/end/", {}),
        (f"/staff/alerts/{alert.id}/acknowledge/", {"note": "x"}),
        (f"/staff/patients/{patient_a.id}/archive/", {"reason": "Moved away"}),
        (
            f"/staff/patients/{patient_a.id}/edit/",
            {
                "first_name": "Nora",
                "last_name": "Moss",
                "email": "nora@example.test",
                "timezone": "UTC",
                "channel": "none",
            },
        ),
    ]


def test_it_refuses_every_action_to_staff(staff_a, targets, patient_a):
    client = signed_in(staff_a)

    for url, data in targets:
        assert client.post(url, data).status_code == 403, url
        assert client.get(url).status_code in (403, 405), url
    rx = patient_a.prescriptions.get()
    assert rx.status == Prescription.Status.ACTIVE
    assert Alert.objects.get().acknowledged_at is None
    assert not Patient.objects.filter(first_name="Nora").exists()


def test_it_answers_404_to_another_clinics_clinician(clinician_b, targets, patient_a):
    client = signed_in(clinician_b)

    for url, data in targets[1:]:
        assert client.post(url, data).status_code == 404, url
    assert patient_a.prescriptions.get().status == Prescription.Status.ACTIVE


def test_it_keeps_a_patient_away_from_every_action(patient_a, targets):
    client = signed_in(patient_a.user)

    for url, data in targets:
        response = client.post(url, data)
        assert response.status_code == 302 and "/staff/login/" in response["Location"], url
