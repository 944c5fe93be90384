"""/my/'s account pieces: a change-password link, a new calendar address, reminder channels
a patient can use, and the patient pages' icon."""

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from clinic.models import AuditEntry
from patients.models import ReminderPreference
from tests.conftest import client_for, signed_in
from tests.factories import PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2024, 6, 10, 13, 0, tzinfo=UTC)


@pytest.fixture
def rx(patient_a):
    return PrescriptionFactory(patient=patient_a, start_date=date(2024, 6, 1))


def test_it_links_to_the_password_change(rx, patient_a):
    page = signed_in(patient_a.user).get("/my/").content.decode()

    assert '<a href="/my/account/#password">Change your password</a>' in page
    assert signed_in(patient_a.user).get("/my/account/").status_code == 200


def test_it_gives_the_calendar_a_new_address(rx, patient_a):
    client = signed_in(patient_a.user)
    old = client_for(patient_a.user).get("/api/v1/me/calendar/").json()["url"]

    response = client.post("/my/calendar/reset/")

    assert response.status_code == 302
    assert response["Location"] == "/my/#calendar"
    new = client_for(patient_a.user).get("/api/v1/me/calendar/").json()["url"]
    assert new != old
    assert Client().get(old.removeprefix("http://testserver")).status_code == 404
    assert Client().get(new.removeprefix("http://testserver")).status_code == 200
    page = client.get("/my/").content.decode()
    assert "Your calendar has a new address" in page
    assert new in page
    assert AuditEntry.objects.get(path="/my/calendar/reset/").action == "update"


def test_the_calendar_reset_is_a_post_for_the_patient_only(rx, patient_a, clinician_a):
    assert signed_in(patient_a.user).get("/my/calendar/reset/").status_code == 405
    assert Client().post("/my/calendar/reset/").status_code == 302  # to the sign-in page


def channels_offered(patient) -> list[str]:
    page = signed_in(patient.user).get("/my/").content.decode()
    start = page.index('id="id_channel"')
    section = page[start : page.index("</select>", start)]
    return [part.split('"')[0] for part in section.split('<option value="')[1:]]


def test_it_offers_no_webhook_to_a_patient_who_does_not_use_one(rx, patient_a):
    assert channels_offered(patient_a) == ["email", "sms", "none"]

    response = signed_in(patient_a.user).post("/my/reminders/", {"channel": "webhook"})

    assert response.status_code == 400
    assert "Choose one of the ways listed." in response.content.decode()


def test_it_keeps_the_webhook_for_a_patient_who_uses_one(rx, patient_a):
    ReminderPreference.objects.create(
        patient=patient_a, channel="webhook", webhook_url="https://hooks.example.com/kr"
    )

    assert "webhook" in channels_offered(patient_a)
    response = signed_in(patient_a.user).post("/my/reminders/", {"channel": "webhook"})
    assert response.status_code == 302


@pytest.mark.parametrize("path", ["/my/", "/my/login/", "/my/account/"])
def test_the_patient_pages_have_an_icon(rx, patient_a, path):
    page = signed_in(patient_a.user).get(path).content.decode()

    assert '<link rel="icon" href="/static/patient/icon.svg" type="image/svg+xml">' in page
