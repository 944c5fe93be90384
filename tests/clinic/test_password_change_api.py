"""POST auth/password/: a signed-in user changes their own password; their other devices
are signed out, the one they use goes on."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from clinic import sign_ins
from clinic.models import SecurityEvent
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CHANGE = "/api/v1/auth/password/"
NEW_PASSWORD = "rocking-gently-at-night"


def change(client, old=PASSWORD, new=NEW_PASSWORD):
    return client.post(CHANGE, {"old_password": old, "new_password": new})


def sign_in(username, password):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password})


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a", "patient_a"])
def test_it_changes_the_password_of_every_role(request, persona):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)

    response = change(client_for(user))

    assert response.status_code == 200
    assert sign_in(user.username, NEW_PASSWORD).status_code == 200
    assert sign_in(user.username, PASSWORD).status_code == 400


def test_it_keeps_this_device_signed_in_and_signs_the_others_out(clinician_a, staff_a):
    this, other = client_for(clinician_a), client_for(clinician_a)
    colleague = client_for(staff_a)

    change(this)

    assert this.get("/api/v1/me/").status_code == 200
    assert other.get("/api/v1/me/").status_code == 401
    assert colleague.get("/api/v1/me/").status_code == 200


def test_it_signs_the_users_web_sessions_out(clinician_a, client):
    client.post("/staff/login/", {"username": clinician_a.username, "password": PASSWORD})
    assert client.get("/staff/account/").status_code == 200

    change(client_for(clinician_a))

    assert client.get("/staff/account/").status_code == 302
    assert not sign_ins.open_sign_ins(clinician_a).filter(kind="session").exists()


def test_it_refuses_a_wrong_current_password_naming_old_password(clinician_a):
    this, other = client_for(clinician_a), client_for(clinician_a)

    response = change(this, old="not-my-password")

    assert response.status_code == 400
    assert set(response.json()) == {"old_password"}
    assert other.get("/api/v1/me/").status_code == 200, "nothing changed"
    assert sign_in(clinician_a.username, PASSWORD).status_code == 200


def test_it_refuses_a_weak_new_password_naming_new_password(patient_a):
    response = change(client_for(patient_a.user), new="password")

    assert response.status_code == 400
    assert set(response.json()) == {"new_password"}
    assert sign_in(patient_a.user.username, PASSWORD).status_code == 200


def test_it_asks_for_both_fields(clinician_a):
    response = client_for(clinician_a).post(CHANGE, {})

    assert response.status_code == 400
    assert set(response.json()) == {"old_password", "new_password"}


def test_it_needs_a_signed_in_user(anon):
    assert change(anon).status_code == 401


def test_it_throttles_each_user(monkeypatch, clinician_a, staff_a):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "password_change": "2/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    guesser = client_for(clinician_a)

    statuses = [change(guesser, old=f"guess-{n}").status_code for n in range(3)]

    assert statuses == [400, 400, 429]
    assert change(client_for(staff_a)).status_code == 200


def test_it_logs_the_change_once(clinician_a):
    client = client_for(clinician_a)
    change(client, old="not-my-password")
    change(client)

    (event,) = SecurityEvent.objects.filter(event="password_changed")
    assert event.user == clinician_a
    assert event.actor == clinician_a
    assert NEW_PASSWORD not in str(event.details)
