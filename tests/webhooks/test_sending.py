"""Posting a delivery: signed the Standard Webhooks way, retried on the schedule, the
endpoint switched off after 24 hours of failures, and never posted to a private address
unless WEBHOOKS_ALLOW_LOCAL."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from standardwebhooks import Webhook

from clinic import events
from clinic.models import SecurityEvent
from prescriptions import extensions
from tests.conftest import signed_in
from webhooks import retries, sending, tasks
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def raise_alert(clinic, patient) -> Delivery:
    event = events.record(
        events.Type.ALERT_RAISED, clinic_id=clinic.id, patient=patient.id, alert=77
    )
    return Delivery.objects.get(event=event)


def test_it_posts_a_signed_body_of_ids_the_receiver_verifies(
    receiver, clinic_a, patient_a, endpoint_for
):
    endpoint = endpoint_for(clinic_a, url=receiver.url)
    delivery = raise_alert(clinic_a, patient_a)

    tasks.deliver([delivery.id])

    [got] = receiver.received
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "alert.raised"
    assert payload["data"] == {"patient": patient_a.id, "alert": 77}
    assert got.headers["webhook-id"] == str(delivery.event_id)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    [attempt] = delivery.tries.all()
    assert attempt.status_code == 200 and attempt.error == ""


def test_a_signature_under_another_secret_does_not_verify(
    receiver, clinic_a, patient_a, endpoint_for
):
    endpoint_for(clinic_a, url=receiver.url)
    tasks.deliver([raise_alert(clinic_a, patient_a).id])

    [got] = receiver.received
    other = endpoint_for(clinic_a, url="https://elsewhere.example.test/")
    with pytest.raises(Exception, match="signature"):
        Webhook(other.secret).verify(got.body, got.headers)


def test_it_retries_a_failure_under_the_same_webhook_id_until_it_is_answered(
    receiver, clinic_a, patient_a, endpoint_for
):
    receiver.statuses = [500, 503, 200]
    endpoint = endpoint_for(clinic_a, url=receiver.url)

    with time_machine.travel(NOW, tick=False) as clock:
        delivery = raise_alert(clinic_a, patient_a)
        tasks.deliver([delivery.id])
        delivery.refresh_from_db()
        assert (delivery.status, delivery.last_error) == ("pending", "the receiver answered 500")
        assert delivery.next_attempt_at == NOW + timedelta(seconds=5)
        endpoint.refresh_from_db()
        assert endpoint.failing_since == NOW

        tasks.sweep()  # not due yet: nothing goes
        assert len(receiver.received) == 1
        clock.shift(timedelta(seconds=5))
        tasks.sweep()
        clock.shift(timedelta(minutes=1))
        tasks.sweep()

    assert [r.headers["webhook-id"] for r in receiver.received] == [str(delivery.event_id)] * 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert [t.status_code for t in delivery.tries.order_by("at")] == [500, 503, 200]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_the_first_retry_comes_within_ten_seconds_and_the_tries_span_over_a_day():
    waits = [retries.next_try(n, NOW) - NOW for n in range(1, len(retries.BACKOFF) + 1)]

    assert waits[0] <= timedelta(seconds=10)
    assert waits == sorted(waits)
    assert sum(waits, timedelta()) >= timedelta(hours=24)
    assert retries.next_try(len(retries.BACKOFF) + 1, NOW) is None


def test_it_gives_a_delivery_up_after_its_last_try(receiver, clinic_a, patient_a, endpoint_for):
    receiver.statuses = [500]
    endpoint_for(clinic_a, url=receiver.url)
    delivery = raise_alert(clinic_a, patient_a)
    Delivery.objects.filter(id=delivery.id).update(attempts=len(retries.BACKOFF))

    tasks.deliver([delivery.id])

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.attempts == len(retries.BACKOFF) + 1


def test_it_switches_off_an_endpoint_that_failed_for_24_hours_and_tells_the_clinic(
    receiver, clinic_a, patient_a, clinician_a, endpoint_for
):
    receiver.statuses = [500]
    endpoint = endpoint_for(clinic_a, url=receiver.url)
    with time_machine.travel(NOW, tick=False) as clock:
        first = raise_alert(clinic_a, patient_a)
        tasks.deliver([first.id])
        clock.shift(timedelta(hours=23, minutes=59))
        tasks.sweep()
        waiting = raise_alert(clinic_a, patient_a)
        endpoint.refresh_from_db()
        assert endpoint.is_active

        clock.shift(timedelta(minutes=1))
        tasks.deliver([waiting.id])

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at == NOW + timedelta(hours=24)
    assert set(endpoint.deliveries.values_list("status", flat=True)) == {"failed"}
    entry = SecurityEvent.objects.get(clinic=clinic_a)
    assert entry.details["webhook"]["change"] == "disabled"
    notices = extensions.clinic_notices(clinic_a.id)
    assert [n["disabled"] for n in notices] == [[endpoint]]
    page = signed_in(clinician_a).get("/staff/").content.decode()
    assert "switched off" in page and receiver.url in page


def test_a_success_within_the_day_keeps_the_endpoint_on(
    receiver, clinic_a, patient_a, endpoint_for
):
    receiver.statuses = [500, 200, 500]
    endpoint = endpoint_for(clinic_a, url=receiver.url)
    with time_machine.travel(NOW, tick=False) as clock:
        tasks.deliver([raise_alert(clinic_a, patient_a).id])
        clock.shift(timedelta(hours=1))
        tasks.sweep()  # the retry is answered: the streak ends
        clock.shift(timedelta(hours=23, minutes=30))
        tasks.deliver([raise_alert(clinic_a, patient_a).id])

    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert endpoint.failing_since == NOW + timedelta(hours=24, minutes=30)


def test_it_never_posts_to_a_private_address_unless_allowed(
    settings, receiver, clinic_a, patient_a, endpoint_for
):
    endpoint_for(clinic_a, url=receiver.url)
    settings.WEBHOOKS_ALLOW_LOCAL = False
    delivery = raise_alert(clinic_a, patient_a)

    tasks.deliver([delivery.id])

    assert receiver.received == []
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.last_error == (
        "the host resolves to an address that is not on the public internet"
    )
    assert delivery.last_status_code is None


def test_a_delivery_held_by_another_worker_is_not_posted_twice(
    receiver, clinic_a, patient_a, endpoint_for
):
    endpoint_for(clinic_a, url=receiver.url)
    delivery = raise_alert(clinic_a, patient_a)
    _, held = sending.claim([delivery.id])

    tasks.deliver([delivery.id])
    tasks.sweep()

    assert [d.id for d in held] == [delivery.id]
    assert receiver.received == []


def test_the_body_carries_the_type_the_time_and_ids_only(clinic_a, patient_a):
    event = events.record(events.Type.CHECK_IN_CREATED, clinic_id=clinic_a.id, patient=patient_a.id)

    body = json.loads(sending.body_of(event))

    assert body == {
        "type": "check_in.created",
        "timestamp": event.at.isoformat(),
        "data": {"patient": patient_a.id},
    }


def test_a_long_list_of_deliveries_is_posted_in_batches_shared_out_as_tasks(monkeypatch):
    posted, queued = [], []
    monkeypatch.setattr(sending, "deliver", lambda ids: posted.append(ids) or [])
    monkeypatch.setattr(
        "webhooks.tasks.deliver.apply_async", lambda args, **options: queued.append(args[0])
    )

    tasks.deliver(list(range(1, 121)))

    assert posted == [list(range(1, 51))]
    assert queued == [list(range(51, 101)), list(range(101, 121))]


def test_a_batch_whose_lease_ran_out_leaves_the_rest_to_the_sweep(
    receiver, clinic_a, patient_a, endpoint_for, settings, monkeypatch
):
    endpoint_for(clinic_a, url=receiver.url)
    with time_machine.travel(NOW, tick=False) as clock:
        first, second = raise_alert(clinic_a, patient_a), raise_alert(clinic_a, patient_a)
        real_post = sending._post

        def slow_post(delivery):  # a receiver that took the whole lease to answer
            clock.shift(timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS))
            return real_post(delivery)

        monkeypatch.setattr(sending, "_post", slow_post)
        tasks.deliver([first.id, second.id])

        assert [r.headers["webhook-id"] for r in receiver.received] == [str(first.event_id)]
        second.refresh_from_db()
        assert (second.status, second.attempts) == ("pending", 0)
        monkeypatch.setattr(sending, "_post", real_post)
        clock.shift(timedelta(seconds=1))
        tasks.sweep()

    assert [r.headers["webhook-id"] for r in receiver.received] == [
        str(first.event_id),
        str(second.event_id),
    ]
