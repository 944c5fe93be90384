from datetime import date
from functools import partial

import pytest
from django.core import mail
from django.db import connection

from prescriptions.models import Alert, CheckIn, IdempotencyRecord
from tests.concurrency import at_once
from tests.conftest import client_for
from tests.factories import PrescriptionFactory
from tests.live_worker import restore_migration_data

NOW = "2026-03-10T15:00:00Z"

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def prescription(patient_a):
    return PrescriptionFactory(patient=patient_a, start_date=date(2026, 3, 3))


def body_for(prescription, **fields):
    return {
        "prescription": prescription.id,
        "slot": "morning",
        "performed_at": "2026-03-10T07:05:00-04:00",
        "pain_before": 6,
        **fields,
    }


def post(client, body, key):
    return client.post("/api/v1/check-ins/", body, HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_it_replays_the_first_response_for_the_same_key_and_body(patient_a, prescription):
    client = client_for(patient_a.user)

    first = post(client, body_for(prescription), "k-1")
    again = post(client, body_for(prescription), "k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert CheckIn.objects.count() == 1


@pytest.mark.django_db
def test_it_treats_the_same_body_in_another_key_order_as_the_same(patient_a, prescription):
    client = client_for(patient_a.user)
    body = body_for(prescription)

    post(client, body, "k-1")
    post(client, dict(reversed(list(body.items()))), "k-1")

    assert CheckIn.objects.count() == 1


@pytest.mark.django_db
def test_it_acts_on_a_red_flag_once_however_often_the_post_is_retried(
    django_capture_on_commit_callbacks, patient_a, prescription
):
    client = client_for(patient_a.user)
    body = body_for(prescription, red_flags=["fever"])

    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, body, "k-1")
        again = post(client, body, "k-1")

    assert again.json()["advice"] == first.json()["advice"]
    assert Alert.objects.filter(kind="red_flag").count() == 1
    assert prescription.status_changes.filter(status="paused").count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_answers_409_for_the_same_key_with_another_body(patient_a, prescription):
    client = client_for(patient_a.user)
    post(client, body_for(prescription), "k-1")

    response = post(client, body_for(prescription, pain_before=2), "k-1")

    assert response.status_code == 409
    assert CheckIn.objects.count() == 1


@pytest.mark.django_db
def test_it_stores_a_new_check_in_for_a_new_key(patient_a, prescription):
    client = client_for(patient_a.user)

    post(client, body_for(prescription), "k-1")
    post(client, body_for(prescription), "k-2")

    assert CheckIn.objects.count() == 2


@pytest.mark.django_db
def test_it_scopes_keys_to_the_user(patient_a, other_patient, prescription):
    theirs = PrescriptionFactory(patient=other_patient, start_date=date(2026, 3, 3))

    post(client_for(patient_a.user), body_for(prescription), "shared")
    response = post(client_for(other_patient.user), body_for(theirs), "shared")

    assert response.status_code == 201
    assert CheckIn.objects.count() == 2


@pytest.mark.django_db
def test_it_keeps_no_key_for_a_refused_request(patient_a, prescription):
    client = client_for(patient_a.user)

    assert post(client, body_for(prescription, pain_before=12), "k-1").status_code == 400
    assert post(client, body_for(prescription), "k-1").status_code == 201
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_key_too_long_to_store_whole(patient_a, prescription):
    response = post(client_for(patient_a.user), body_for(prescription), "k" * 256)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.data
    assert not CheckIn.objects.exists()


@pytest.mark.django_db
def test_it_stores_every_post_without_a_key(patient_a, prescription):
    client = client_for(patient_a.user)

    client.post("/api/v1/check-ins/", body_for(prescription))
    client.post("/api/v1/check-ins/", body_for(prescription))

    assert CheckIn.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers; the race needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_it_stores_one_check_in_when_retries_race(patient_a):
    restore_migration_data()
    prescription = PrescriptionFactory(patient=patient_a, start_date=date(2026, 3, 3))
    clients = [client_for(patient_a.user) for _ in range(4)]
    responses = at_once(
        *(partial(post, client, body_for(prescription), "race") for client in clients)
    )
    statuses = [response.status_code for response in responses]
    bodies = [response.json() for response in responses]

    assert statuses == [201] * len(clients)
    assert all(body == bodies[0] for body in bodies)
    assert CheckIn.objects.count() == 1
