from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from clinic.models import User
from patients import services
from patients.models import ActivationCode
from tests.concurrency import at_once
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "rock-gently-each-night"


@pytest.fixture
def enrolled(clinician_a):
    body = (
        client_for(clinician_a)
        .post(
            "/api/v1/patients/",
            {"first_name": "Eli", "last_name": "Park", "email": "eli@example.test"},
        )
        .data
    )
    return body


def activate(client, code, password=PASSWORD):
    return client.post("/api/v1/auth/activate/", {"code": code, "password": password})


def test_it_activates_the_patient_and_signs_them_in(anon, enrolled):
    response = activate(anon, enrolled["activation_code"])

    assert response.status_code == 200
    assert response.data["role"] == "patient"
    assert response.data["expires_at"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {response.data['token']}")
    assert anon.get("/api/v1/me/").data["patient"] == enrolled["id"]
    user = User.objects.get(username="eli@example.test")
    assert user.is_active
    assert user.check_password(PASSWORD)


def test_it_lets_the_patient_sign_in_with_their_email_afterwards(anon, enrolled):
    activate(anon, enrolled["activation_code"])

    response = anon.post(
        "/api/v1/auth/token/", {"username": "eli@example.test", "password": PASSWORD}
    )

    assert response.status_code == 200


def test_it_lets_the_patient_type_their_email_in_any_case(anon, enrolled):
    activate(anon, enrolled["activation_code"])

    response = anon.post(
        "/api/v1/auth/token/", {"username": " Eli@Example.TEST", "password": PASSWORD}
    )

    assert response.status_code == 200


def test_it_accepts_the_code_typed_loosely(anon, enrolled):
    code = enrolled["activation_code"].replace("-", " ").lower()

    assert activate(anon, f"  {code} ").status_code == 200


def test_it_accepts_a_code_only_once(anon, enrolled):
    assert activate(anon, enrolled["activation_code"]).status_code == 200

    response = activate(anon, enrolled["activation_code"], "another-long-passphrase")

    assert response.status_code == 400
    assert "code" in response.data
    assert User.objects.get(username="eli@example.test").check_password(PASSWORD)


def test_it_refuses_an_expired_code(anon, enrolled, settings):
    later = timezone.now() + settings.ACTIVATION_CODE_TTL + timedelta(minutes=1)

    with time_machine.travel(later):
        response = activate(anon, enrolled["activation_code"])

    assert response.status_code == 400
    assert "code" in response.data
    assert not User.objects.get(username="eli@example.test").is_active


def test_it_refuses_an_unknown_code(anon, enrolled):
    response = activate(anon, "AAAAA-AAAAA")

    assert response.status_code == 400
    assert "code" in response.data


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "eli@example.test"])
def test_it_applies_the_password_rules_and_keeps_the_code(anon, enrolled, password):
    response = activate(anon, enrolled["activation_code"], password)

    assert response.status_code == 400
    assert "password" in response.data
    assert not User.objects.get(username="eli@example.test").is_active
    assert activate(anon, enrolled["activation_code"]).status_code == 200


def test_it_replaces_the_code_when_the_clinician_issues_a_new_one(anon, clinician_a, enrolled):
    response = client_for(clinician_a).post(f"/api/v1/patients/{enrolled['id']}/activation-code/")

    assert response.status_code == 201
    assert activate(anon, enrolled["activation_code"]).status_code == 400
    assert activate(anon, response.data["activation_code"]).status_code == 200


def test_a_new_code_for_an_active_patient_resets_the_password_and_signs_out_devices(
    anon, clinician_a, patient_a
):
    lost_phone = client_for(patient_a.user)
    code = client_for(clinician_a).post(f"/api/v1/patients/{patient_a.id}/activation-code/")

    response = activate(anon, code.data["activation_code"])

    assert response.status_code == 200
    assert lost_phone.get("/api/v1/me/").status_code == 401
    patient_a.user.refresh_from_db()
    assert patient_a.user.check_password(PASSWORD)


def test_it_lets_only_the_clinicians_of_the_clinic_issue_codes(staff_a, clinician_b, patient_a):
    url = f"/api/v1/patients/{patient_a.id}/activation-code/"

    assert client_for(staff_a).post(url).status_code == 403
    assert client_for(patient_a.user).post(url).status_code == 403
    assert client_for(clinician_b).post(url).status_code == 404


def test_it_throttles_guessing(anon, enrolled, monkeypatch):
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "activate": "3/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)

    statuses = [activate(anon, "BBBBB-BBBBB").status_code for _ in range(4)]

    assert statuses == [400, 400, 400, 429]


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers; the race needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_racing_activations_win(clinician_a):
    enrolment = services.patient_enrol(
        clinic=clinician_a.clinic,
        enrolled_by=clinician_a,
        first_name="Fay",
        last_name="Ng",
        email="fay@example.test",
    )
    passwords = ("first-pw-x1", "second-pw-x2")
    answers = at_once(
        *(
            partial(services.patient_activate, code=enrolment.activation_code, password=p)
            for p in passwords
        )
    )
    outcomes = [
        None if isinstance(answer, Exception) else password
        for password, answer in zip(passwords, answers, strict=True)
    ]

    winners = [o for o in outcomes if o]
    assert len(winners) == 1
    assert ActivationCode.objects.get().used_at is not None
    assert User.objects.get(username="fay@example.test").check_password(winners[0])
