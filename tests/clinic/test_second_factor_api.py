"""auth/2fa/setup/, confirm/ and disable/: a second factor for any signed-in user."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import SecurityEvent
from tests.conftest import client_for
from tests.factories import PASSWORD
from tests.second_factor import code, key_of, second_factor_on, secret_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2026, 5, 4, 9, 0, 5, tzinfo=UTC)
SETUP = "/api/v1/auth/2fa/setup/"
CONFIRM = "/api/v1/auth/2fa/confirm/"
DISABLE = "/api/v1/auth/2fa/disable/"


def events(kind: str) -> int:
    return SecurityEvent.objects.filter(event=kind).count()


def test_it_answers_an_otpauth_url_for_an_authenticator_app(clinician_a):
    response = client_for(clinician_a).post(SETUP)

    assert response.status_code == 200
    url = urlparse(response.json()["otpauth_url"])
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc) == ("otpauth", "totp")
    assert unquote(url.path) == "/Knee Rocks:dr.a@example.test"
    assert query["issuer"] == ["Knee Rocks"]
    assert (query["algorithm"], query["digits"], query["period"]) == (["SHA1"], ["6"], ["30"])
    assert len(secret_of(response.json()["otpauth_url"])) == 20


def test_a_set_up_second_factor_is_not_in_force_until_confirmed(anon, clinician_a):
    client_for(clinician_a).post(SETUP)

    response = anon.post(
        "/api/v1/auth/token/", {"username": clinician_a.username, "password": PASSWORD}
    )

    assert response.status_code == 200


def test_it_confirms_with_the_apps_code_and_answers_ten_recovery_codes(patient_a):
    client = client_for(patient_a.user)
    key = secret_of(client.post(SETUP).json()["otpauth_url"])

    response = client.post(CONFIRM, {"code": code(key)})

    assert response.status_code == 200
    codes = response.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=patient_a.user).confirmed
    assert events("second_factor_added") == 1
    event = SecurityEvent.objects.get(event="second_factor_added")
    assert event.user == patient_a.user
    assert code(key) not in str(event.details)


def test_it_refuses_a_wrong_code_naming_code_and_stays_off(clinician_a):
    client = client_for(clinician_a)
    key = secret_of(client.post(SETUP).json()["otpauth_url"])
    wrong = f"{(int(code(key)) + 1) % 1_000_000:06d}"

    response = client.post(CONFIRM, {"code": wrong})

    assert response.status_code == 400
    assert "code" in response.json()
    assert not TOTPDevice.objects.get(user=clinician_a).confirmed
    assert events("second_factor_added") == 0


def test_a_new_setup_replaces_the_unconfirmed_one(clinician_a, frozen_clock):
    client = client_for(clinician_a)
    first = secret_of(client.post(SETUP).json()["otpauth_url"])
    second = secret_of(client.post(SETUP).json()["otpauth_url"])

    assert first != second
    assert TOTPDevice.objects.filter(user=clinician_a).count() == 1
    assert client.post(CONFIRM, {"code": code(first)}).status_code == 400
    frozen_clock.shift(2)  # past django-otp's pause after a wrong code
    assert client.post(CONFIRM, {"code": code(second)}).status_code == 200


def test_a_wrong_code_pauses_the_device_a_moment(clinician_a, frozen_clock):
    client = client_for(clinician_a)
    key = secret_of(client.post(SETUP).json()["otpauth_url"])
    client.post(CONFIRM, {"code": f"{(int(code(key)) + 1) % 1_000_000:06d}"})

    # Even the right code waits out django-otp's throttle (a second, doubling per failure).
    assert client.post(CONFIRM, {"code": code(key)}).status_code == 400
    frozen_clock.shift(2)
    assert client.post(CONFIRM, {"code": code(key)}).status_code == 200


def test_a_new_phone_takes_over_only_once_its_first_code_is_typed(clinician_a, frozen_clock):
    old_key, old_recovery = second_factor_on(clinician_a)
    client = client_for(clinician_a)

    new_key = secret_of(client.post(SETUP).json()["otpauth_url"])
    in_force = TOTPDevice.objects.get(user=clinician_a, confirmed=True)
    assert in_force.bin_key == old_key  # the old phone still signs in meanwhile
    frozen_clock.shift(30)
    new_recovery = client.post(CONFIRM, {"code": code(new_key)}).json()["recovery_codes"]

    assert key_of(clinician_a) == new_key
    sign_in = {"username": clinician_a.username, "password": PASSWORD}
    frozen_clock.shift(30)
    refused = client_for(clinician_a).post("/api/v1/auth/token/", {**sign_in, "otp": code(old_key)})
    assert refused.status_code == 400
    assert (
        client.post("/api/v1/auth/token/", {**sign_in, "otp": old_recovery[0]}).status_code == 400
    )
    frozen_clock.shift(5)  # django-otp's pause after a wrong code
    assert (
        client.post("/api/v1/auth/token/", {**sign_in, "otp": new_recovery[0]}).status_code == 200
    )
    added = SecurityEvent.objects.filter(event="second_factor_added").order_by("id")
    assert [e.details["replaced"] for e in added] == [False, True]


def test_a_member_of_a_clinic_that_requires_one_can_still_move_to_a_new_phone(
    clinician_a, frozen_clock
):
    clinician_a.clinic.require_second_factor = True
    clinician_a.clinic.save()
    second_factor_on(clinician_a)
    client = client_for(clinician_a)

    new_key = secret_of(client.post(SETUP).json()["otpauth_url"])
    frozen_clock.shift(30)

    assert client.post(CONFIRM, {"code": code(new_key)}).status_code == 200
    assert key_of(clinician_a) == new_key


def test_confirm_without_a_setup_is_a_400(staff_a):
    response = client_for(staff_a).post(CONFIRM, {"code": "123456"})

    assert response.status_code == 400


def test_confirm_needs_a_code(staff_a):
    client = client_for(staff_a)
    client.post(SETUP)

    assert "code" in client.post(CONFIRM, {}).json()


def test_disable_needs_a_right_code(clinician_a, frozen_clock):
    key, _ = second_factor_on(clinician_a)
    client = client_for(clinician_a)
    frozen_clock.shift(30)

    wrong = client.post(DISABLE, {"code": f"{(int(code(key)) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 400
    assert "code" in wrong.json()
    assert TOTPDevice.objects.filter(user=clinician_a).exists()

    frozen_clock.shift(30)  # past django-otp's pause after a wrong code
    assert client.post(DISABLE, {"code": code(key)}).status_code == 204
    assert not TOTPDevice.objects.filter(user=clinician_a).exists()
    assert not StaticToken.objects.filter(device__user=clinician_a).exists()
    assert events("second_factor_removed") == 1


def test_disable_takes_a_recovery_code(patient_a):
    _, codes = second_factor_on(patient_a.user)

    response = client_for(patient_a.user).post(DISABLE, {"code": codes[3]})

    assert response.status_code == 204
    assert not TOTPDevice.objects.filter(user=patient_a.user).exists()


def test_disable_refuses_a_code_already_used(clinician_a):
    key, _ = second_factor_on(clinician_a)  # confirmed with this step's code

    response = client_for(clinician_a).post(DISABLE, {"code": code(key)})

    assert response.status_code == 400
    assert events("second_factor_removed") == 0


def test_a_clinic_that_requires_a_second_factor_keeps_its_teams_on(clinic_a, clinician_a):
    clinic_a.require_second_factor = True
    clinic_a.save()
    _, codes = second_factor_on(clinician_a)

    response = client_for(clinician_a).post(DISABLE, {"code": codes[0]})

    assert response.status_code == 400
    assert "requires" in str(response.json())
    assert TOTPDevice.objects.filter(user=clinician_a, confirmed=True).exists()
    # The recovery code was not spent on a refusal.
    assert StaticToken.objects.filter(device__user=clinician_a).count() == 10


def test_a_patient_of_such_a_clinic_may_turn_theirs_off(clinic_a, patient_a):
    clinic_a.require_second_factor = True
    clinic_a.save()
    _, codes = second_factor_on(patient_a.user)

    assert client_for(patient_a.user).post(DISABLE, {"code": codes[0]}).status_code == 204


def test_disable_without_a_second_factor_is_a_400(clinician_b):
    assert client_for(clinician_b).post(DISABLE, {"code": "123456"}).status_code == 400


def test_one_users_codes_do_nothing_for_another(clinician_a, clinician_b):
    _, codes = second_factor_on(clinician_a)
    second_factor_on(clinician_b)

    client = client_for(clinician_b)
    assert client.post(DISABLE, {"code": codes[0]}).status_code == 400
    assert TOTPDevice.objects.filter(user=clinician_b).exists()


def test_signed_out_callers_get_401(anon):
    for path in (SETUP, CONFIRM, DISABLE):
        assert anon.post(path, {"code": "123456"}).status_code == 401
