from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import User
from patients.models import ActivationCode, Patient, ReminderPreference
from patients.services import CODE_ALPHABET, activation_code_digest
from prescriptions.reminders import plan
from tests.conftest import client_for
from tests.factories import PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db

ENROL = {
    "first_name": "Dana",
    "last_name": "Reyes",
    "email": "Dana.Reyes@Example.test",
    "phone": "+1 555 010 0199",
    "timezone": "America/Chicago",
}


def enrol(user, **changes):
    return client_for(user).post("/api/v1/patients/", {**ENROL, **changes})


# --- Enrolment -------------------------------------------------------------------------


def test_it_enrols_a_patient_with_an_inactive_sign_in_and_a_one_time_code(clinician_a):
    response = enrol(clinician_a)

    assert response.status_code == 201
    body = response.data
    assert body["email"] == "dana.reyes@example.test"
    assert body["timezone"] == "America/Chicago"
    assert body["activated"] is False
    patient = Patient.objects.get(id=body["id"])
    assert patient.clinic == clinician_a.clinic
    assert patient.enrolled_by == clinician_a
    user = patient.user
    assert (user.username, user.role, user.clinic) == (patient.email, "patient", patient.clinic)
    assert not user.is_active
    assert not user.has_usable_password()
    assert ReminderPreference.objects.filter(patient=patient).exists()


def test_it_stores_only_the_digest_of_an_easy_to_type_code(clinician_a, settings):
    body = enrol(clinician_a).data

    code = body["activation_code"]
    first, second = code.split("-")
    assert len(first) == len(second) == 5
    assert set(first + second) <= set(CODE_ALPHABET)
    stored = ActivationCode.objects.get(patient_id=body["id"])
    assert stored.code_digest == activation_code_digest(code)
    assert code.replace("-", "") not in stored.code_digest
    lifetime = stored.expires_at - stored.created_at
    assert abs(lifetime - settings.ACTIVATION_CODE_TTL) < timedelta(seconds=5)


def test_it_never_shows_the_code_again(clinician_a):
    patient_id = enrol(clinician_a).data["id"]

    body = client_for(clinician_a).get(f"/api/v1/patients/{patient_id}/").data

    assert "activation_code" not in body


def test_it_defaults_the_timezone_to_the_clinic(clinician_a):
    payload = {k: v for k, v in ENROL.items() if k != "timezone"}

    body = client_for(clinician_a).post("/api/v1/patients/", payload).data

    assert body["timezone"] == clinician_a.clinic.timezone


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "EST5", "../etc/passwd", "", "localtime", "posixrules"]
)
def test_it_refuses_a_timezone_that_is_not_an_iana_name(clinician_a, zone):
    response = enrol(clinician_a, timezone=zone)

    assert response.status_code == 400
    assert "timezone" in response.data
    assert not Patient.objects.exists()
    assert not User.objects.filter(role="patient").exists()


def test_it_refuses_an_email_already_in_use_whatever_its_case(clinician_a, patient_b):
    response = enrol(clinician_a, email=patient_b.email.upper())

    assert response.status_code == 400
    assert "email" in response.data
    assert Patient.objects.count() == 1


def test_it_answers_400_when_a_concurrent_enrolment_took_the_email(
    clinician_a, patient_b, monkeypatch
):
    # The check passed, then the insert met the unique constraint: what a race looks like.
    monkeypatch.setattr("patients.api.serializers.services.email_taken", lambda *a, **k: False)

    response = enrol(clinician_a, email=patient_b.email)

    assert response.status_code == 400
    assert "email" in response.data
    assert Patient.objects.count() == 1
    assert not User.objects.filter(role="patient", clinic=clinician_a.clinic).exists()


def test_it_refuses_an_email_that_is_a_clinic_users_username(clinician_a, staff_a):
    response = enrol(clinician_a, email=staff_a.username)

    assert response.status_code == 400
    assert "email" in response.data


@pytest.mark.parametrize("field", ["first_name", "last_name", "email"])
def test_it_requires_the_name_and_email(clinician_a, field):
    payload = {k: v for k, v in ENROL.items() if k != field}

    response = client_for(clinician_a).post("/api/v1/patients/", payload)

    assert response.status_code == 400
    assert field in response.data
    assert not Patient.objects.exists()


def test_it_refuses_an_unknown_field(clinician_a):
    response = enrol(clinician_a, clinic=999)

    assert response.status_code == 400
    assert "clinic" in response.data


def test_it_forbids_staff_and_patients_to_enrol(staff_a, patient_a):
    assert enrol(staff_a).status_code == 403
    assert enrol(patient_a.user).status_code == 403
    assert Patient.objects.count() == 1


def test_it_answers_401_without_credentials(anon):
    assert anon.post("/api/v1/patients/", ENROL).status_code == 401
    assert anon.get("/api/v1/patients/").status_code == 401


# --- Reading ---------------------------------------------------------------------------


def test_it_lists_only_the_callers_clinic(
    clinician_a, staff_a, patient_a, other_patient, patient_b
):
    for user in (clinician_a, staff_a):
        body = client_for(user).get("/api/v1/patients/").data
        assert body["count"] == 2
        assert {row["id"] for row in body["results"]} == {patient_a.id, other_patient.id}


def test_it_lists_a_patient_only_themselves(patient_a, other_patient):
    body = client_for(patient_a.user).get("/api/v1/patients/").data

    assert [row["id"] for row in body["results"]] == [patient_a.id]


def test_it_searches_by_name_or_email(clinician_a, patient_a, other_patient):
    body = client_for(clinician_a).get("/api/v1/patients/", {"search": "mos"}).data

    assert [row["id"] for row in body["results"]] == [patient_a.id]


def test_it_hides_records_outside_reach_with_404(clinician_b, patient_a, other_patient):
    assert client_for(clinician_b).get(f"/api/v1/patients/{patient_a.id}/").status_code == 404
    response = client_for(other_patient.user).get(f"/api/v1/patients/{patient_a.id}/")
    assert response.status_code == 404


def test_it_shows_a_patient_their_own_record(patient_a):
    body = client_for(patient_a.user).get(f"/api/v1/patients/{patient_a.id}/").data

    assert body["email"] == patient_a.email
    assert body["timezone"] == patient_a.timezone
    assert body["created_at"]


@pytest.mark.parametrize("rows", [2, 20])
def test_it_lists_in_a_constant_number_of_queries(clinician_a, rows):
    PatientFactory.create_batch(rows, clinic=clinician_a.clinic)
    client = client_for(clinician_a)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/patients/", {"page_size": 100})

    assert response.data["count"] == rows
    assert len(queries) == 5  # token, user, count, page, audit entries


# --- Changes ---------------------------------------------------------------------------


def test_it_changes_the_email_and_the_username_together(clinician_a, patient_a):
    response = client_for(clinician_a).patch(
        f"/api/v1/patients/{patient_a.id}/", {"email": "Ada.New@Example.test"}
    )

    assert response.status_code == 200
    patient_a.refresh_from_db()
    patient_a.user.refresh_from_db()
    assert patient_a.email == patient_a.user.username == "ada.new@example.test"


def test_it_keeps_a_patients_own_email_when_patched_unchanged(clinician_a, patient_a):
    response = client_for(clinician_a).patch(
        f"/api/v1/patients/{patient_a.id}/", {"email": patient_a.email, "first_name": "Adda"}
    )

    assert response.status_code == 200
    assert response.data["first_name"] == "Adda"


def test_it_refuses_to_take_another_patients_email(clinician_a, patient_a, other_patient):
    response = client_for(clinician_a).patch(
        f"/api/v1/patients/{patient_a.id}/", {"email": other_patient.email}
    )

    assert response.status_code == 400
    assert "email" in response.data


def test_it_keeps_the_number_that_text_reminders_go_to(clinician_a, patient_a):
    patient_a.phone = "+1 555 010 0199"
    patient_a.save()
    ReminderPreference.objects.create(patient=patient_a, channel="sms")

    response = client_for(clinician_a).patch(f"/api/v1/patients/{patient_a.id}/", {"phone": ""})

    assert response.status_code == 400
    assert "text message" in response.json()["phone"][0]
    patient_a.refresh_from_db()
    assert patient_a.phone == "+1 555 010 0199"


@pytest.fixture
def rescheduled(clinician_a, patient_a, monkeypatch):
    """The prescriptions whose reminder times were recomputed, in order."""
    PrescriptionFactory(patient=patient_a, clinician=clinician_a)
    heard = []
    monkeypatch.setattr(
        plan, "slots_reschedule", lambda prescription_id: heard.append(prescription_id)
    )
    return heard


def test_it_moves_the_reminder_times_in_the_zone_changes_transaction(
    clinician_a, patient_a, rescheduled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        client_for(clinician_a).patch(
            f"/api/v1/patients/{patient_a.id}/", {"timezone": "Europe/Paris"}
        )

    # Before any commit: the zone and the reminders move together, or neither does.
    assert rescheduled == [patient_a.prescriptions.get().id]


def test_it_leaves_the_reminder_times_when_the_timezone_stays(
    clinician_a, patient_a, rescheduled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(clinician_a).patch(
            f"/api/v1/patients/{patient_a.id}/", {"timezone": patient_a.timezone}
        )

    assert rescheduled == []


def test_it_refuses_a_bad_timezone_on_change_and_keeps_the_old(clinician_a, patient_a):
    response = client_for(clinician_a).patch(
        f"/api/v1/patients/{patient_a.id}/", {"timezone": "Nowhere/Land", "first_name": "X"}
    )

    assert response.status_code == 400
    assert "timezone" in response.data
    patient_a.refresh_from_db()
    assert (patient_a.timezone, patient_a.first_name) == ("America/New_York", "Ada")


def test_it_forbids_staff_and_the_patient_to_change_the_record(staff_a, patient_a):
    url = f"/api/v1/patients/{patient_a.id}/"

    assert client_for(staff_a).patch(url, {"first_name": "X"}).status_code == 403
    assert client_for(patient_a.user).patch(url, {"first_name": "X"}).status_code == 403


def test_it_offers_no_put(clinician_a, patient_a):
    response = client_for(clinician_a).put(f"/api/v1/patients/{patient_a.id}/", ENROL)

    assert response.status_code == 405


def test_it_hides_another_clinics_patient_from_changes(clinician_b, patient_a):
    url = f"/api/v1/patients/{patient_a.id}/"

    assert client_for(clinician_b).patch(url, {"first_name": "X"}).status_code == 404
