"""PATCH me/: a patient sets their own time zone and phone number."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import TestCase

from patients.models import Patient, ReminderPreference
from prescriptions.models import PrescriptionSlot
from tests.conftest import client_for
from tests.prescriptions.reminders_support import scheduled_prescription

pytestmark = pytest.mark.django_db


def patch_me(user, body):
    return client_for(user).patch("/api/v1/me/", body, format="json")


def test_it_lets_a_patient_set_their_zone_and_phone(patient_a):
    response = patch_me(patient_a.user, {"timezone": "Asia/Tokyo", "phone": "+81 3 1234 5678"})

    assert response.status_code == 200
    assert response.data["timezone"] == "Asia/Tokyo"
    assert response.data["phone"] == "+81 3 1234 5678"
    patient_a.refresh_from_db()
    assert (patient_a.timezone, patient_a.phone) == ("Asia/Tokyo", "+81 3 1234 5678")


def test_it_shows_zone_and_phone_in_get_me(patient_a):
    body = client_for(patient_a.user).get("/api/v1/me/").data

    assert body["timezone"] == patient_a.timezone
    assert body["phone"] == patient_a.phone


def test_it_moves_the_next_reminder_to_the_new_zone(patient_a):
    # 01:00 in New York, 06:00 in London on 3 June: the next morning slot is today's 07:00.
    with time_machine.travel(datetime(2024, 6, 3, 5, 0, tzinfo=UTC), tick=False):
        prescription = scheduled_prescription(patient_a, slots=[("morning", "07:00")])
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = patch_me(patient_a.user, {"timezone": "Europe/London"})

    assert response.status_code == 200
    slot = PrescriptionSlot.objects.get(prescription=prescription)
    assert slot.next_fire_at == datetime(2024, 6, 3, 6, 0, tzinfo=UTC)  # 07:00 BST


@pytest.mark.parametrize(
    "body, field",
    [
        ({"first_name": "Eve"}, "first_name"),
        ({"email": "new@example.test"}, "email"),
        ({"clinic": 99}, "clinic"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),
        ({"phone": "call me maybe"}, "phone"),
    ],
)
def test_it_refuses_other_fields_and_bad_values_naming_the_field(patient_a, body, field):
    before = Patient.objects.values().get(id=patient_a.id)

    response = patch_me(patient_a.user, body)

    assert response.status_code == 400
    assert field in response.json()
    assert Patient.objects.values().get(id=patient_a.id) == before


def test_it_changes_nothing_when_one_field_of_two_is_bad(patient_a):
    response = patch_me(patient_a.user, {"timezone": "Asia/Tokyo", "role": "clinician"})

    assert response.status_code == 400
    patient_a.refresh_from_db()
    assert patient_a.timezone == "America/New_York"


def test_it_forbids_the_clinic_team(clinician_a, staff_a):
    for user in (clinician_a, staff_a):
        response = patch_me(user, {"timezone": "Asia/Tokyo"})

        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"


def test_it_asks_to_sign_in(anon):
    assert anon.patch("/api/v1/me/", {"timezone": "Asia/Tokyo"}, format="json").status_code == 401


def test_it_keeps_the_phone_while_reminders_go_by_text(patient_a):
    patient_a.phone = "+1 555 010 0199"
    patient_a.save()
    ReminderPreference.objects.create(patient=patient_a, channel="sms")

    response = patch_me(patient_a.user, {"phone": ""})

    assert response.status_code == 400
    assert "text message" in response.json()["phone"][0]
    patient_a.refresh_from_db()
    assert patient_a.phone == "+1 555 010 0199"


def test_it_clears_the_phone_when_reminders_go_another_way(patient_a):
    patient_a.phone = "+1 555 010 0199"
    patient_a.save()

    assert patch_me(patient_a.user, {"phone": ""}).status_code == 200
    patient_a.refresh_from_db()
    assert patient_a.phone == ""
