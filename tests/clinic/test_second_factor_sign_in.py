"""Signing in with a second factor: auth/token/'s `otp` and the web sign-in's code step, the
lockout they share with the password, and a clinic that requires a second factor."""

from datetime import UTC, datetime

import pytest
from django.test import Client
from rest_framework.test import APIClient

from clinic.models import SecurityEvent
from tests.factories import PASSWORD
from tests.second_factor import code, second_factor_on

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2026, 5, 4, 9, 0, 5, tzinfo=UTC)
TOKEN = "/api/v1/auth/token/"


def token(username, otp=None, *, address="198.51.100.7"):
    body = {"username": username, "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return APIClient(REMOTE_ADDR=address).post(TOKEN, body)


def wrong(key) -> str:
    return f"{(int(code(key)) + 1) % 1_000_000:06d}"


def failures(reason="second_factor") -> int:
    return SecurityEvent.objects.filter(event="sign_in_failed", details__reason=reason).count()


@pytest.fixture
def required(clinic_a):
    clinic_a.require_second_factor = True
    clinic_a.save()
    return clinic_a


# --- auth/token/ -------------------------------------------------------------------------


def test_once_confirmed_a_token_needs_the_code(clinician_a, frozen_clock):
    key, _ = second_factor_on(clinician_a)
    frozen_clock.shift(30)

    missing = token(clinician_a.username)
    assert missing.status_code == 400
    assert "otp" in missing.json()

    response = token(clinician_a.username, code(key))
    assert response.status_code == 200
    assert response.json()["role"] == "clinician"


def test_a_wrong_code_is_a_400_naming_otp_and_is_logged_once(clinician_a, frozen_clock):
    key, _ = second_factor_on(clinician_a)
    frozen_clock.shift(30)

    response = token(clinician_a.username, wrong(key))

    assert response.status_code == 400
    assert "otp" in response.json()
    assert failures() == 1
    event = SecurityEvent.objects.get(event="sign_in_failed")
    assert event.user == clinician_a
    assert wrong(key) not in str(event.details)


def test_wrong_codes_lock_the_pair_out_even_for_the_right_code(clinician_a, settings, frozen_clock):
    key, _ = second_factor_on(clinician_a)
    for _ in range(settings.SIGN_IN_MAX_FAILURES):
        frozen_clock.shift(30)  # a fresh step each time: only the lockout refuses
        assert token(clinician_a.username, wrong(key)).status_code == 400

    frozen_clock.shift(30)
    assert token(clinician_a.username, code(key)).status_code == 429
    assert SecurityEvent.objects.filter(event="locked_out").count() == 1
    # From elsewhere, the rightful clinician still gets in.
    assert token(clinician_a.username, code(key), address="192.0.2.44").status_code == 200


def test_a_code_is_refused_the_second_time_in_its_window(clinician_a, frozen_clock):
    key, _ = second_factor_on(clinician_a)
    frozen_clock.shift(30)

    assert token(clinician_a.username, code(key)).status_code == 200
    frozen_clock.shift(5)
    again = token(clinician_a.username, code(key))
    assert again.status_code == 400
    assert "otp" in again.json()

    frozen_clock.shift(30)
    assert token(clinician_a.username, code(key)).status_code == 200


def test_a_recovery_code_works_once(patient_a, frozen_clock):
    _, codes = second_factor_on(patient_a.user)

    assert token(patient_a.user.username, codes[0]).status_code == 200
    assert token(patient_a.user.username, codes[0]).status_code == 400
    frozen_clock.shift(2)  # past django-otp's pause after a wrong code
    # As people copy them: capitals, without the hyphen.
    assert token(patient_a.user.username, codes[1].replace("-", "").upper()).status_code == 200


def test_a_wrong_password_never_reaches_the_code(clinician_a, frozen_clock):
    key, _ = second_factor_on(clinician_a)
    frozen_clock.shift(30)

    response = APIClient().post(
        TOKEN, {"username": clinician_a.username, "password": "nope", "otp": code(key)}
    )

    assert response.status_code == 400
    assert "otp" not in response.json()
    assert failures("password") == 1


@pytest.mark.parametrize("member", ["clinician_a", "staff_a"])
def test_a_required_clinic_turns_away_a_member_without_one(request, required, member):
    user = request.getfixturevalue(member)

    response = token(user.username)

    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "requires a second factor" in detail
    assert "http://testserver/staff/login/" in detail


def test_a_required_clinic_lets_in_a_member_with_one(required, staff_a, frozen_clock):
    key, _ = second_factor_on(staff_a)
    frozen_clock.shift(30)

    assert token(staff_a.username).status_code == 400
    assert token(staff_a.username, code(key)).status_code == 200


def test_a_required_clinic_never_requires_it_of_patients(required, patient_a):
    assert token(patient_a.user.username).status_code == 200


def test_another_clinic_requiring_it_changes_nothing_here(clinic_b, clinician_a):
    clinic_b.require_second_factor = True
    clinic_b.save()

    assert token(clinician_a.username).status_code == 200


# --- The web sign-in ---------------------------------------------------------------------


def web_sign_in(client, username, *, path="/staff/login/", next_path=""):
    field = "email" if path.startswith("/my/") else "username"
    url = f"{path}?next={next_path}" if next_path else path
    return client.post(url, {field: username, "password": PASSWORD})


def test_the_web_asks_the_code_after_the_password(clinician_a, frozen_clock):
    key, _ = second_factor_on(clinician_a)
    frozen_clock.shift(30)
    client = Client()

    response = web_sign_in(client, clinician_a.username, next_path="/staff/deliveries/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/login/code/"
    assert client.get("/staff/").status_code == 302  # not signed in yet
    page = client.get("/staff/login/code/").content.decode()
    assert 'autocomplete="one-time-code"' in page
    assert 'inputmode="numeric"' in page

    done = client.post("/staff/login/code/", {"code": code(key)})
    assert done.status_code == 302
    assert done["Location"] == "/staff/deliveries/"
    assert client.get("/staff/").status_code == 200
    assert SecurityEvent.objects.filter(event="sign_in", user=clinician_a).count() == 1


def test_the_web_code_step_takes_a_recovery_code(patient_a):
    _, codes = second_factor_on(patient_a.user)
    client = Client()

    response = web_sign_in(client, patient_a.user.username, path="/my/login/")
    assert response["Location"] == "/my/login/code/"
    page = client.get("/my/login/code/?recovery=1").content.decode()
    assert "Recovery code" in page
    assert 'inputmode="numeric"' not in page

    done = client.post("/my/login/code/?recovery=1", {"code": codes[5]})
    assert done["Location"] == "/my/"
    assert client.get("/my/").status_code == 200


def test_a_wrong_web_code_is_refused_and_counts_toward_the_lockout(
    clinician_a, settings, frozen_clock
):
    key, _ = second_factor_on(clinician_a)
    client = Client()
    web_sign_in(client, clinician_a.username)

    for _ in range(settings.SIGN_IN_MAX_FAILURES):
        frozen_clock.shift(30)
        response = client.post("/staff/login/code/", {"code": wrong(key)})
        assert response.status_code == 400
        assert "not right" in response.content.decode()

    frozen_clock.shift(30)
    locked = client.post("/staff/login/code/", {"code": code(key)})
    assert locked.status_code == 400
    assert "Too many failed attempts" in locked.content.decode()
    assert client.get("/staff/").status_code == 302
    assert failures() == settings.SIGN_IN_MAX_FAILURES


def test_the_code_step_waits_only_a_few_minutes(clinician_a, frozen_clock):
    key, _ = second_factor_on(clinician_a)
    client = Client()
    web_sign_in(client, clinician_a.username)

    frozen_clock.shift(6 * 60)
    response = client.post("/staff/login/code/", {"code": code(key)})

    assert response.status_code == 302
    assert response["Location"] == "/staff/login/"
    assert client.get("/staff/").status_code == 302


def test_the_code_step_without_a_password_first_goes_to_the_sign_in(clinician_a):
    second_factor_on(clinician_a)

    response = Client().post("/staff/login/code/", {"code": "123456"})

    assert response["Location"] == "/staff/login/"


def test_without_a_second_factor_the_web_signs_in_at_once(clinician_a):
    client = Client()

    response = web_sign_in(client, clinician_a.username)

    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
