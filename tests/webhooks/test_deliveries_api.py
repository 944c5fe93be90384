"""webhooks/{id}/deliveries/ and its replay: the endpoint's log, newest first, each try
with its answer and time; a replay tries again now under the same webhook-id."""

import pytest

from clinic import events
from tests.conftest import client_for
from webhooks import tasks
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def alert(clinic, patient):
    return events.record(events.Type.ALERT_RAISED, clinic_id=clinic.id, patient=patient.id)


def test_it_lists_the_deliveries_newest_first_with_each_try(
    receiver, clinician_a, patient_a, endpoint_for
):
    receiver.statuses = [500, 200]
    endpoint = endpoint_for(clinician_a.clinic, url=receiver.url)
    first, second = alert(clinician_a.clinic, patient_a), alert(clinician_a.clinic, patient_a)
    tasks.deliver(list(Delivery.objects.values_list("id", flat=True)))

    body = client_for(clinician_a).get(f"/api/v1/webhooks/{endpoint.id}/deliveries/").json()

    newest, oldest = body["results"]
    assert (newest["event"], newest["type"], newest["status"]) == (
        second.id,
        "alert.raised",
        "delivered",
    )
    assert newest["next_attempt_at"] is None
    assert (oldest["event"], oldest["status"], oldest["attempts"]) == (first.id, "pending", 1)
    assert (oldest["last_status_code"], oldest["last_error"]) == (500, "the receiver answered 500")
    assert oldest["next_attempt_at"] is not None
    [try_] = oldest["tries"]
    assert try_["status_code"] == 500 and try_["duration_ms"] >= 0
    assert try_["error"] == "the receiver answered 500"


def test_it_reads_a_page_of_the_log_in_the_same_queries_however_long(
    django_assert_num_queries, receiver, clinician_a, patient_a, endpoint_for
):
    receiver.statuses = [500]
    endpoint = endpoint_for(clinician_a.clinic, url=receiver.url)
    for _ in range(30):
        alert(clinician_a.clinic, patient_a)
    tasks.deliver(list(Delivery.objects.values_list("id", flat=True)))
    client = client_for(clinician_a)

    # The token with its user (2), the endpoint, the count, the page with the events and
    # the tries of the page (1).
    with django_assert_num_queries(6):
        response = client.get(f"/api/v1/webhooks/{endpoint.id}/deliveries/")

    assert response.json()["count"] == 30
    assert len(response.json()["results"]) == 20


def test_a_replay_sends_the_event_again_under_the_same_webhook_id(
    receiver, django_capture_on_commit_callbacks, clinician_a, patient_a, endpoint_for
):
    endpoint = endpoint_for(clinician_a.clinic, url=receiver.url)
    alert(clinician_a.clinic, patient_a)
    delivery = Delivery.objects.get()
    tasks.deliver([delivery.id])

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(clinician_a).post(
            f"/api/v1/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay/"
        )

    assert response.status_code == 202, response.content
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == str(delivery.event_id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.tries.count()) == ("delivered", 2, 2)


def test_a_switched_off_endpoint_replays_nothing(clinician_a, patient_a, endpoint_for):
    endpoint = endpoint_for(clinician_a.clinic, is_active=True)
    alert(clinician_a.clinic, patient_a)
    endpoint.is_active = False
    endpoint.save()
    delivery = Delivery.objects.get()

    response = client_for(clinician_a).post(
        f"/api/v1/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay/"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["is_active"]


def test_another_endpoints_delivery_is_not_found(clinician_a, patient_a, endpoint_for):
    mine, other = endpoint_for(clinician_a.clinic), endpoint_for(clinician_a.clinic)
    alert(clinician_a.clinic, patient_a)
    delivery = Delivery.objects.get(endpoint=other)

    response = client_for(clinician_a).post(
        f"/api/v1/webhooks/{mine.id}/deliveries/{delivery.id}/replay/"
    )

    assert response.status_code == 404
