import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password})


def test_it_signs_in_a_clinician_with_a_bearer_token(anon, clinician_a):
    response = sign_in(anon, clinician_a.username)

    assert response.status_code == 200
    assert response.data["role"] == "clinician"
    assert response.data["expires_at"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {response.data['token']}")
    assert anon.get("/api/v1/me/").data["username"] == clinician_a.username


def test_it_rejects_a_wrong_password_with_400(anon, clinician_a):
    response = sign_in(anon, clinician_a.username, "not-the-password")

    assert response.status_code == 400
    assert "non_field_errors" in response.data


ATTACKER = "203.0.113.9"
RIGHTFUL = "198.51.100.7"


def sign_in_from(address, username, password=PASSWORD, **headers):
    return APIClient(REMOTE_ADDR=address, **headers).post(
        "/api/v1/auth/token/", {"username": username, "password": password}
    )


def test_it_locks_out_the_address_that_guesses_not_the_clinician(clinician_a, settings):
    for _ in range(settings.SIGN_IN_MAX_FAILURES):
        assert sign_in_from(ATTACKER, clinician_a.username, "guess").status_code == 400

    # The guessing address is refused even with the right password …
    assert sign_in_from(ATTACKER, clinician_a.username).status_code == 429
    # … while the clinician, signing in from elsewhere, gets in.
    response = sign_in_from(RIGHTFUL, clinician_a.username)
    assert response.status_code == 200
    assert response.data["role"] == "clinician"


def test_a_shared_address_where_one_person_mistyped_still_lets_the_others_in(
    clinician_a, staff_a, patient_a, settings
):
    for _ in range(settings.SIGN_IN_MAX_FAILURES):
        sign_in_from(ATTACKER, patient_a.user.username, "mistyped")

    assert sign_in_from(ATTACKER, patient_a.user.username).status_code == 429
    assert sign_in_from(ATTACKER, clinician_a.username).status_code == 200
    assert sign_in_from(ATTACKER, staff_a.username).status_code == 200


def test_an_address_failing_across_many_usernames_is_slowed_not_locked(clinician_a, settings):
    settings.SIGN_IN_SLOWDOWN_AFTER = 8
    with time_machine.travel("2026-05-01T09:00:00Z", tick=False) as clock:
        for n in range(settings.SIGN_IN_SLOWDOWN_AFTER + 2):
            sign_in_from(ATTACKER, f"someone{n}@example.test", "guess")

        slowed = sign_in_from(ATTACKER, clinician_a.username)
        assert slowed.status_code == 429
        assert 1 <= int(slowed["Retry-After"]) <= settings.SIGN_IN_SLOWDOWN_MAX_SECONDS
        clock.shift(int(slowed["Retry-After"]))

        assert sign_in_from(ATTACKER, clinician_a.username).status_code == 200


def test_the_wait_of_a_slowed_address_doubles_up_to_its_cap(clinician_a, settings):
    settings.SIGN_IN_SLOWDOWN_AFTER = 2
    settings.SIGN_IN_MAX_FAILURES = 100
    waits = []
    with time_machine.travel("2026-05-01T09:00:00Z", tick=False) as clock:
        for n in range(10):
            response = sign_in_from(ATTACKER, f"someone{n}@example.test", "guess")
            if response.status_code == 429:
                waits.append(int(response["Retry-After"]))
                clock.shift(waits[-1])
                sign_in_from(ATTACKER, f"someone{n}@example.test", "guess")

    assert waits[:6] == [1, 2, 4, 8, 16, settings.SIGN_IN_SLOWDOWN_MAX_SECONDS]


def test_a_success_clears_the_failures_of_that_username_only(clinician_a, staff_a, settings):
    for _ in range(settings.SIGN_IN_MAX_FAILURES - 1):
        sign_in_from(ATTACKER, clinician_a.username, "guess")
        sign_in_from(ATTACKER, staff_a.username, "guess")
    assert sign_in_from(ATTACKER, staff_a.username).status_code == 200

    sign_in_from(ATTACKER, staff_a.username, "guess")
    sign_in_from(ATTACKER, clinician_a.username, "guess")

    assert sign_in_from(ATTACKER, staff_a.username).status_code == 200
    assert sign_in_from(ATTACKER, clinician_a.username).status_code == 429


def test_it_lifts_the_lockout_after_the_window(clinician_a, settings):
    with time_machine.travel("2026-05-01T09:00:00Z", tick=False) as clock:
        for _ in range(settings.SIGN_IN_MAX_FAILURES):
            sign_in_from(ATTACKER, clinician_a.username, "guess")
        clock.shift(settings.SIGN_IN_LOCKOUT_SECONDS + 1)

        assert sign_in_from(ATTACKER, clinician_a.username).status_code == 200


def test_it_ignores_a_forwarded_for_header_when_no_proxy_is_trusted(clinician_a, settings):
    for n in range(settings.SIGN_IN_MAX_FAILURES):
        forged = {"HTTP_X_FORWARDED_FOR": f"192.0.2.{n}"}
        sign_in_from(ATTACKER, clinician_a.username, "guess", **forged)

    forged = {"HTTP_X_FORWARDED_FOR": RIGHTFUL}
    assert sign_in_from(ATTACKER, clinician_a.username, **forged).status_code == 429


def test_behind_a_trusted_proxy_it_locks_out_the_address_the_proxy_saw(clinician_a, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.2"
    for _ in range(settings.SIGN_IN_MAX_FAILURES):
        # What the attacker wrote (left) is kept; the proxy appends the address it saw.
        seen = {"HTTP_X_FORWARDED_FOR": f"{RIGHTFUL}, {ATTACKER}"}
        sign_in_from(proxy, clinician_a.username, "guess", **seen)

    locked = {"HTTP_X_FORWARDED_FOR": ATTACKER}
    assert sign_in_from(proxy, clinician_a.username, **locked).status_code == 429
    rightful = {"HTTP_X_FORWARDED_FOR": RIGHTFUL}
    assert sign_in_from(proxy, clinician_a.username, **rightful).status_code == 200


def test_it_answers_401_without_credentials(anon):
    assert anon.get("/api/v1/me/").status_code == 401


def test_logout_revokes_only_the_token_in_use(clinician_a):
    phone, laptop = client_for(clinician_a), client_for(clinician_a)

    assert phone.post("/api/v1/auth/logout/").status_code == 204

    assert phone.get("/api/v1/me/").status_code == 401
    assert laptop.get("/api/v1/me/").status_code == 200


def test_me_describes_a_patient_with_their_record(patient_a):
    body = client_for(patient_a.user).get("/api/v1/me/").data

    assert body["role"] == "patient"
    assert body["username"] == patient_a.email
    assert body["patient"] == patient_a.id
    assert body["clinic"] == patient_a.clinic_id
