"""GET, PATCH me/reminder-preferences/: the patient's channel, quiet hours and webhook."""

import pytest

from patients.models import ReminderPreference
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/reminder-preferences/"


@pytest.fixture
def client(patient_a):
    return client_for(patient_a.user)


def test_it_starts_with_email_and_no_quiet_hours(client):
    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "channel": "email",
        "quiet_start": None,
        "quiet_end": None,
        "webhook_url": "",
    }


def test_it_saves_quiet_hours_that_wrap_midnight(client, patient_a):
    response = client.patch(URL, {"quiet_start": "22:30", "quiet_end": "06:45"})

    assert response.status_code == 200
    assert (response.json()["quiet_start"], response.json()["quiet_end"]) == ("22:30", "06:45")
    assert client.get(URL).json()["quiet_end"] == "06:45"


def test_it_clears_quiet_hours_together(client):
    client.patch(URL, {"quiet_start": "22:30", "quiet_end": "06:45"})

    response = client.patch(URL, {"quiet_start": None, "quiet_end": None})

    assert (response.json()["quiet_start"], response.json()["quiet_end"]) == (None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quiet_start": "22:30"}, "quiet_end"),
        ({"quiet_end": "06:00"}, "quiet_start"),
        ({"quiet_start": "22:30", "quiet_end": "22:30"}, "quiet_end"),
        ({"quiet_start": "25:00", "quiet_end": "06:00"}, "quiet_start"),
        ({"quiet_start": "10pm", "quiet_end": "06:00"}, "quiet_start"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": "webhook"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "not a url"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "http://127.0.0.1:6379/"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "http://169.254.169.254/latest"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "http://[::1]/hook"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "http://10.0.0.5/hook"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "http://localhost:8000/"}, "webhook_url"),
        ({"channel": "sms"}, "channel"),  # no phone number on file
        ({"chanel": "none"}, "chanel"),
    ],
)
def test_it_refuses_bad_preferences_naming_the_field(client, body, field):
    response = client.patch(URL, body)

    assert response.status_code == 400
    assert field in response.json()
    assert client.get(URL).json()["channel"] == "email"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.test/kr",
        "file:///etc/passwd",
        "gopher://hooks.example.test/",
        "http://hooks.example.test/kr",
        "hooks.example.test/kr",
    ],
)
def test_it_takes_only_an_https_webhook_url(client, url):
    response = client.patch(URL, {"channel": "webhook", "webhook_url": url})

    assert response.status_code == 400
    assert response.json() == {"webhook_url": ["Use an https:// address."]}
    assert client.get(URL).json()["webhook_url"] == ""


def test_it_shows_the_webhook_secret_once_when_the_url_is_set(client, patient_a):
    response = client.patch(
        URL, {"channel": "webhook", "webhook_url": "https://hooks.example.test/kr"}
    )

    assert response.status_code == 200
    secret = response.json()["webhook_secret"]
    assert secret == ReminderPreference.objects.get(patient=patient_a).webhook_secret
    assert "webhook_secret" not in client.get(URL).json()
    assert "webhook_secret" not in client.patch(URL, {"quiet_start": None}).json()


def test_it_gives_a_new_secret_when_asked_to_rotate(client, patient_a):
    first = client.patch(
        URL, {"channel": "webhook", "webhook_url": "https://hooks.example.test/kr"}
    ).json()["webhook_secret"]

    second = client.patch(URL, {"rotate_webhook_secret": True}).json()["webhook_secret"]

    assert second != first
    assert ReminderPreference.objects.get(patient=patient_a).webhook_secret == second


def test_it_offers_sms_once_the_clinic_has_a_phone_number(client, patient_a):
    patient_a.phone = "+1 555 010 0199"
    patient_a.save()

    response = client.patch(URL, {"channel": "sms"})

    assert response.status_code == 200
    assert response.json()["channel"] == "sms"


def test_it_lets_the_patient_turn_reminders_off(client):
    response = client.patch(URL, {"channel": "none"})

    assert response.json()["channel"] == "none"


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a"])
def test_it_is_for_patients_only(persona, request):
    client = client_for(request.getfixturevalue(persona))

    assert client.get(URL).status_code == 403
    assert client.patch(URL, {"channel": "none"}).status_code == 403


def test_it_asks_for_credentials(anon):
    assert anon.get(URL).status_code == 401


def test_it_keeps_each_patient_to_their_own_preferences(client, other_patient):
    client.patch(URL, {"channel": "none"})

    assert client_for(other_patient.user).get(URL).json()["channel"] == "email"
