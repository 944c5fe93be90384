import pytest

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


def test_it_locks_out_a_username_after_repeated_failures(anon, clinician_a, settings):
    for _ in range(settings.SIGN_IN_MAX_FAILURES):
        assert sign_in(anon, clinician_a.username, "guess").status_code == 400

    # Even the right password is refused until the lockout window passes.
    assert sign_in(anon, clinician_a.username).status_code == 429


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
