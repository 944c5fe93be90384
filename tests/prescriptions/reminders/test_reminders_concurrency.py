"""Two ticks at once (two beats, or a slow tick overlapping the next) share the due slots:
each reminder is created and queued for delivery exactly once. Two deliveries at once (a
task delivered twice) share a batch the same way: each reminder is claimed once."""

import threading
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import time_machine
from django.db import connection, transaction

from prescriptions.models import Reminder
from prescriptions.reminders import deliver, tick
from tests.concurrency import at_once
from tests.prescriptions.reminders_support import FIRE_AT, queued, scheduled_prescription

MORNING = datetime(2024, 6, 3, 11, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_it_never_lets_two_ticks_take_the_same_slot(monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    with time_machine.travel(datetime(2024, 6, 3, 3, tzinfo=UTC), tick=False):
        for _ in range(40):
            scheduled_prescription(slots=[("morning", "07:00")])
    monkeypatch.setattr(tick, "TICK_BATCH", 5)
    queued = []
    one_tick = partial(tick.reminders_tick, now=MORNING, deliver=queued.extend)
    assert not [a for a in at_once(one_tick, one_tick) if isinstance(a, Exception)]

    assert Reminder.objects.count() == 40
    assert sorted(queued) == sorted(Reminder.objects.values_list("id", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_claim_passes_over_reminders_another_claim_is_taking_without_waiting():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    with time_machine.travel(FIRE_AT - timedelta(hours=8), tick=False):
        first, second = queued(scheduled_prescription()), queued(scheduled_prescription())
    ids = [first.id, second.id]
    found = []

    def other_claim():
        try:
            found.append(deliver._claim(ids, FIRE_AT))
        finally:
            connection.close()

    with transaction.atomic():
        # This claim's locks are held until its transaction ends.
        deliver._claim([first.id], FIRE_AT)
        other = threading.Thread(target=other_claim)
        other.start()
        other.join(timeout=5)
        waited = other.is_alive()
    other.join()

    assert not waited
    [taken] = found
    assert [r.id for r in taken] == [second.id]
    # Once the first claim is in, its lease keeps the reminder from every other attempt.
    assert deliver._claim(ids, FIRE_AT + timedelta(seconds=1)) == []
    assert sorted(Reminder.objects.values_list("attempts", flat=True)) == [1, 1]
