"""/my/zone-and-phone/: a patient without the app sets their own time zone and phone."""

from datetime import UTC, datetime

import pytest
from django.test import Client, TestCase

from clinic.models import AuditEntry
from patients.models import Patient, ReminderPreference
from prescriptions.models import PrescriptionSlot
from tests.factories import PASSWORD
from tests.prescriptions.reminders_support import scheduled_prescription

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2024, 6, 3, 5, 0, tzinfo=UTC)  # 01:00 in New York, 06:00 in London
URL = "/my/zone-and-phone/"


@pytest.fixture
def signed_in(patient_a):
    client = Client()
    response = client.post("/my/login/", {"email": patient_a.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_it_shows_the_form_with_the_current_zone_selected(signed_in, patient_a):
    page = signed_in.get("/my/").content.decode()

    assert "Your time zone and phone" in page
    assert '<label for="id_timezone">' in page
    assert '<label for="id_phone">' in page
    assert f'<option value="{patient_a.timezone}" selected>' in page
    assert page.count(" selected>") == 2  # the zone and the reminder channel


def test_it_moves_the_next_reminder_to_the_new_zone(signed_in, patient_a):
    prescription = scheduled_prescription(patient_a, slots=[("morning", "07:00")])

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = signed_in.post(URL, {"timezone": "Europe/London", "phone": ""})

    assert response.status_code == 302
    assert response["Location"] == "/my/#zone-and-phone"
    slot = PrescriptionSlot.objects.get(prescription=prescription)
    assert slot.next_fire_at == datetime(2024, 6, 3, 6, 0, tzinfo=UTC)  # 07:00 BST
    assert "are saved" in signed_in.get("/my/").content.decode()
    assert AuditEntry.objects.get(path=URL).action == "update"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"timezone": "Mars/Olympus", "phone": ""}, "timezone"),
        ({"timezone": "localtime", "phone": ""}, "timezone"),
        ({"phone": ""}, "timezone"),
        ({"timezone": "Asia/Tokyo", "phone": "call me maybe"}, "phone"),
        ({"timezone": "Asia/Tokyo", "phone": "1" * 40}, "phone"),
    ],
)
def test_it_names_the_bad_field_and_changes_nothing(signed_in, patient_a, body, field):
    before = Patient.objects.values().get(id=patient_a.id)

    response = signed_in.post(URL, body)

    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    assert Patient.objects.values().get(id=patient_a.id) == before


def test_it_keeps_the_phone_while_reminders_go_by_text(signed_in, patient_a):
    patient_a.phone = "+1 555 010 0199"
    patient_a.save()
    ReminderPreference.objects.create(patient=patient_a, channel="sms")

    response = signed_in.post(URL, {"timezone": "Asia/Tokyo", "phone": ""})

    assert response.status_code == 400
    page = response.content.decode()
    error = page[page.index('id="id_phone_error"') :]
    assert "by text message" in error[: error.index("</p>")]
    patient_a.refresh_from_db()
    assert (patient_a.phone, patient_a.timezone) == ("+1 555 010 0199", "America/New_York")


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a"])
def test_it_treats_the_clinic_team_as_the_other_my_pages_do(request, persona, patient_a):
    client = Client()
    client.force_login(request.getfixturevalue(persona))

    response = client.post(URL, {"timezone": "Asia/Tokyo", "phone": ""})
    reminders = client.post("/my/reminders/", {"channel": "none"})

    assert response.status_code == reminders.status_code == 302
    assert response["Location"] == f"/my/login/?next={URL}"
    patient_a.refresh_from_db()
    assert patient_a.timezone == "America/New_York"


def test_it_refuses_a_post_without_the_csrf_token(patient_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient_a.user)

    response = client.post(URL, {"timezone": "Asia/Tokyo", "phone": ""})

    assert response.status_code == 403
    patient_a.refresh_from_db()
    assert patient_a.timezone == "America/New_York"
