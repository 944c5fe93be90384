import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from clinic.models import SecurityEvent, User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "rock-gently-each-night"


@pytest.fixture
def token(clinician_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(clinician_a).post(
            "/api/v1/team/",
            {
                "email": "rae@example.test",
                "first_name": "Rae",
                "last_name": "Quinn",
                "role": "staff",
            },
        )
    assert response.status_code == 201
    return token_in(mail.outbox[-1].body)


def token_in(body: str) -> str:
    return re.search(r"http://testserver/join/([^/\s]+)/", body).group(1)


def join(client, token, password=PASSWORD):
    return client.post("/api/v1/auth/join/", {"token": token, "password": password})


def test_it_makes_the_member_and_signs_them_in_with_their_role(anon, token, clinician_a):
    response = join(anon, token)

    assert response.status_code == 200
    assert response.data["role"] == "staff"
    assert response.data["token"] and response.data["expires_at"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {response.data['token']}")
    me = anon.get("/api/v1/me/").data
    assert (me["username"], me["role"], me["clinic"]) == (
        "rae@example.test",
        "staff",
        clinician_a.clinic_id,
    )


def test_it_lets_the_member_sign_in_with_their_password_afterwards(anon, token):
    join(anon, token)

    response = anon.post(
        "/api/v1/auth/token/", {"username": "rae@example.test", "password": PASSWORD}
    )

    assert response.status_code == 200


def test_it_logs_one_joined_entry(anon, token, clinician_a):
    join(anon, token)

    [entry] = SecurityEvent.objects.filter(event="joined")
    assert entry.user.username == "rae@example.test"
    assert entry.clinic_id == clinician_a.clinic_id


def test_it_works_once(anon, token):
    assert join(anon, token).status_code == 200

    response = join(anon, token, "another-long-passphrase")

    assert response.status_code == 400
    assert "token" in response.data
    assert User.objects.filter(username="rae@example.test").count() == 1


def test_it_refuses_the_link_after_72_hours(anon, token):
    with time_machine.travel(timezone.now() + timedelta(hours=72, seconds=1)):
        response = join(anon, token)

    assert response.status_code == 400
    assert "token" in response.data
    assert not User.objects.filter(username="rae@example.test").exists()


def test_it_accepts_the_link_shortly_before_72_hours(anon, token):
    with time_machine.travel(timezone.now() + timedelta(hours=71, minutes=59)):
        assert join(anon, token).status_code == 200


def test_it_refuses_an_unknown_token(anon, token):
    response = join(anon, token[:-2] + "xx")

    assert response.status_code == 400
    assert "token" in response.data


@pytest.mark.parametrize("password", ["short", "rae@example.test", "123456789012"])
def test_it_applies_the_password_rules_and_keeps_the_invitation(anon, token, password):
    response = join(anon, token, password)

    assert response.status_code == 400
    assert "password" in response.data
    assert join(anon, token).status_code == 200


def test_it_refuses_an_earlier_invitation_once_a_new_one_is_sent(
    anon, token, clinician_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(clinician_a).post(
            "/api/v1/team/",
            {"email": "rae@example.test", "first_name": "Rae", "last_name": "Q", "role": "staff"},
        )
    newer = token_in(mail.outbox[-1].body)

    assert join(anon, token).status_code == 400
    assert join(anon, newer).status_code == 200


def test_it_refuses_when_the_address_was_given_to_someone_else_meanwhile(anon, token, clinician_a):
    client_for(clinician_a).post(
        "/api/v1/patients/",
        {"first_name": "Rae", "last_name": "Quinn", "email": "rae@example.test"},
    )

    response = join(anon, token)

    assert response.status_code == 400
    assert "token" in response.data


def test_it_keeps_no_token_or_password_in_the_log(anon, token):
    join(anon, token)

    for entry in SecurityEvent.objects.all():
        assert token not in str(entry.details)
        assert PASSWORD not in str(entry.details)
