"""Requests no honest client sends still get a JSON answer a client can read: a 400, 404
or 413, never a 500 or Django's HTML page, and nothing is stored. The same on SQLite and
PostgreSQL (PostgreSQL refuses NUL in text, SQLite does not)."""

import json
from datetime import UTC, date, datetime

import pytest

from prescriptions.models import CheckIn, IdempotencyRecord
from tests.conftest import client_for
from tests.factories import PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
DEEP = "[" * 1000 + "]" * 1000  # about 2 KB


@pytest.fixture
def prescription(patient_a):
    return PrescriptionFactory(patient=patient_a, start_date=date(2026, 3, 3))


def check_in_body(prescription, **fields) -> dict:
    return {
        "prescription": prescription.id,
        "slot": "morning",
        "performed_at": "2026-03-10T07:05:00-04:00",
        "pain_before": 6,
        **fields,
    }


def post_raw(client, path: str, raw: str, **extra):
    return client.generic("POST", path, raw, content_type="application/json", **extra)


# --- Deeply nested JSON ------------------------------------------------------------------


@pytest.mark.parametrize("body", [DEEP, "[" * 1000, '{"a":' * 1000 + "1" + "}" * 1000])
def test_it_refuses_deeply_nested_json_to_sign_in_without_credentials(anon, body):
    response = post_raw(anon, "/api/v1/auth/token/", body)

    assert response.status_code == 400
    assert "nested" in response.json()["detail"] or "JSON parse error" in response.json()["detail"]


def test_it_refuses_a_deeply_nested_check_in_and_stores_nothing(patient_a, prescription):
    response = post_raw(client_for(patient_a.user), "/api/v1/check-ins/", DEEP)

    assert response.status_code == 400
    assert "detail" in response.json()
    assert not CheckIn.objects.exists()


def test_it_names_the_field_of_a_nested_value_too_deep_to_be_honest(patient_a, prescription):
    notes = "[" * 200 + "]" * 200
    raw = json.dumps(check_in_body(prescription))[:-1] + f', "red_flags": {notes}}}'

    response = post_raw(client_for(patient_a.user), "/api/v1/check-ins/", raw)

    assert response.status_code == 400
    assert "red_flags" in response.json()
    assert not CheckIn.objects.exists()


# --- Bodies over the size limit ----------------------------------------------------------


def test_it_answers_json_413_to_a_check_in_over_the_size_limit(patient_a, prescription):
    body = check_in_body(prescription, notes="x" * 3_000_000)

    response = client_for(patient_a.user).post("/api/v1/check-ins/", body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["detail"]
    assert not CheckIn.objects.exists()


def test_it_answers_json_413_to_sign_in_over_the_size_limit(anon, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = anon.post("/api/v1/auth/token/", {"username": "u" * 200, "password": "p"})

    assert response.status_code == 413
    assert response.json()["detail"].startswith("The request body is too large")


# --- NUL characters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, name",
    [
        ("/api/v1/patients/?search=%00abc", "search"),
        ("/api/v1/check-ins/?from=2026-03-01%00", "from"),
        ("/api/v1/alerts/?kind=red%00flag", "kind"),
        ("/api/v1/protocols/?page=1%00", "page"),
    ],
)
def test_it_refuses_a_nul_in_a_query_parameter_naming_it(clinician_a, path, name):
    response = client_for(clinician_a).get(path)

    assert response.status_code == 400
    assert response.json() == {name: ["NUL characters are not allowed."]}


def test_it_refuses_a_nul_in_a_path_as_not_found(clinician_a):
    response = client_for(clinician_a).get("/api/v1/protocols/knee%00rocks/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_it_refuses_a_nul_in_a_body_field_naming_it(patient_a, prescription):
    body = check_in_body(prescription, notes="fine\x00then", red_flags=["numb\x00ness"])

    response = client_for(patient_a.user).post("/api/v1/check-ins/", body)

    assert response.status_code == 400
    assert set(response.json()) <= {"notes", "red_flags"}
    assert not CheckIn.objects.exists()


def test_it_refuses_a_nul_in_a_list_field_naming_it(patient_a, prescription):
    body = check_in_body(prescription, red_flags=["numb\x00ness"])

    response = client_for(patient_a.user).post("/api/v1/check-ins/", body)

    assert response.status_code == 400
    assert response.json() == {"red_flags": ["NUL characters are not allowed."]}
    assert not CheckIn.objects.exists()


def test_it_refuses_an_unpaired_surrogate_in_a_body_field(patient_a, prescription):
    raw = json.dumps(check_in_body(prescription))[:-1] + ', "notes": "\\ud800"}'

    response = post_raw(client_for(patient_a.user), "/api/v1/check-ins/", raw)

    assert response.status_code == 400
    assert response.json() == {"notes": ["Unpaired surrogate characters are not allowed."]}
    assert not CheckIn.objects.exists()


def test_it_refuses_a_nul_in_sign_in_fields(anon):
    response = anon.post("/api/v1/auth/token/", {"username": "dr\x00x", "password": "p"})

    assert response.status_code == 400
    assert "username" in response.json()


def test_it_refuses_a_nul_in_the_idempotency_key_naming_it(patient_a, prescription):
    response = client_for(patient_a.user).post(
        "/api/v1/check-ins/", check_in_body(prescription), HTTP_IDEMPOTENCY_KEY="retry\x00-1"
    )

    assert response.status_code == 400
    assert response.json() == {"Idempotency-Key": ["NUL characters are not allowed."]}
    assert not CheckIn.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_it_refuses_a_nul_in_a_bearer_token(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer abc\x00def")

    response = anon.get("/api/v1/me/")

    assert response.status_code == 400
    assert response.json() == {"Authorization": ["NUL characters are not allowed."]}


# --- Paths holding a newline -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/alerts/%0Aabc/acknowledge/",
        "/api/v1/patients/1%0A/",
        "/api/v1/%0A",
        "/api/%0A/v1/me/",
    ],
)
def test_it_answers_json_404_to_a_path_holding_a_newline(clinician_a, path):
    response = client_for(clinician_a).post(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "Not found" in response.json()["detail"]
