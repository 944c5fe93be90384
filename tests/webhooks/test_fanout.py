"""Each event becomes one delivery per active endpoint of its clinic that asked for its
type, in the event's own transaction, in a constant number of queries."""

import pytest
from django.db import transaction

from clinic import events
from tests.events_support import Boom
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db
Type = events.Type


@pytest.fixture
def webhooks_reader_only(monkeypatch):
    """The other readers (the stored clinic rows', …) set aside: the counts below are the
    fan-out's own."""
    monkeypatch.setattr(
        events, "READERS", [reader for reader in events.READERS if reader.name == "webhooks"]
    )


def test_it_costs_a_clinic_without_an_endpoint_one_query_per_change(
    django_assert_num_queries, clinic_a, patient_a, webhooks_reader_only
):
    # The event's INSERT, and the look for the clinic's endpoints.
    with django_assert_num_queries(2):
        events.record(Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=patient_a.id)

    assert not Delivery.objects.exists()


# Up to 90 deliveries: beyond 99 rows SQLite's cap of 999 parameters makes Django split the
# INSERT (one statement per 99 rows); PostgreSQL writes them in one.
@pytest.mark.parametrize("endpoints", [1, 3])
def test_it_writes_the_deliveries_of_many_events_in_the_same_queries(
    django_assert_num_queries,
    clinic_a,
    clinic_b,
    patient_a,
    endpoint_for,
    endpoints,
    webhooks_reader_only,
):
    for _ in range(endpoints):
        endpoint_for(clinic_a)
    endpoint_for(clinic_b)  # another clinic's endpoint hears nothing of clinic A
    rows = [(clinic_a.id, {"patient": patient_a.id, "alert": n}) for n in range(30)]

    # The events' INSERT, the endpoints of their clinics, the deliveries' INSERT.
    with django_assert_num_queries(3):
        written = events.record_each(Type.ALERT_RAISED, rows)

    assert Delivery.objects.count() == 30 * endpoints
    assert set(Delivery.objects.values_list("event_id", flat=True)) == {e.id for e in written}
    assert not Delivery.objects.filter(endpoint__clinic=clinic_b).exists()


def test_it_sends_an_endpoint_only_the_types_it_asked_for(clinic_a, patient_a, endpoint_for):
    alerts = endpoint_for(clinic_a, events=[Type.ALERT_RAISED])
    everything = endpoint_for(clinic_a, events=["*"])
    endpoint_for(clinic_a, is_active=False)

    events.record(Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=patient_a.id)
    raised = events.record(Type.ALERT_RAISED, clinic_id=clinic_a.id, patient=patient_a.id)

    assert list(alerts.deliveries.values_list("event_id", flat=True)) == [raised.id]
    assert everything.deliveries.count() == 2
    assert Delivery.objects.count() == 3


def test_a_change_that_rolls_back_leaves_no_delivery(clinic_a, patient_a, endpoint_for):
    endpoint_for(clinic_a)

    with pytest.raises(Boom), transaction.atomic():
        events.record(Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=patient_a.id)
        assert Delivery.objects.count() == 1
        raise Boom

    assert not Delivery.objects.exists()


def test_it_queues_the_deliveries_once_the_change_has_committed(
    django_capture_on_commit_callbacks, clinic_a, patient_a, endpoint_for, monkeypatch
):
    endpoint_for(clinic_a)
    queued = []
    monkeypatch.setattr("webhooks.tasks.deliver.delay", queued.append)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.record(Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=patient_a.id)
    assert queued == []

    for callback in callbacks:
        callback()
    assert queued == [list(Delivery.objects.values_list("id", flat=True))]
