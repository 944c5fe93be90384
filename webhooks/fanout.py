"""From events to deliveries: registered with clinic.events from WebhooksConfig.ready().

Inside the transaction that writes the events, one query finds the active endpoints of
their clinics and one INSERT writes a delivery per (endpoint, event) the endpoint asked
for, however many events and endpoints: a committed event always has its deliveries (an
outbox), a rolled-back one none. Once that transaction has committed, a task is queued
with the new deliveries' ids; a worker that never gets it (a crash, a lost message) is
covered by the sweep (webhooks.tasks.sweep), which sends whatever is due and not held.

The enqueue is this module's own on_commit rather than the Reader's `after_commit`: that
one gets the events' ids, and the task takes the deliveries' ids, known only here.
Nothing is cached: a clinic without an endpoint costs one query per change. (On SQLite,
Django splits an INSERT of more than 99 deliveries, SQLite taking 999 parameters at most.)
"""

from functools import partial

from django.db import transaction

from clinic.models import Event
from webhooks import tasks
from webhooks.models import Delivery, Endpoint


def deliveries_create(events: list[Event]) -> list[Delivery]:
    clinic_ids = {event.clinic_id for event in events}
    endpoints = list(
        Endpoint.objects.filter(clinic_id__in=clinic_ids, is_active=True).only(
            "id", "clinic_id", "events"
        )
    )
    rows = [
        Delivery(endpoint_id=endpoint.id, event_id=event.id, next_attempt_at=event.at)
        for event in events
        for endpoint in endpoints
        if endpoint.clinic_id == event.clinic_id and endpoint.wants(event.type)
    ]
    if not rows:
        return []
    created = Delivery.objects.bulk_create(rows)
    transaction.on_commit(partial(tasks.deliver.delay, [delivery.id for delivery in created]))
    return created
