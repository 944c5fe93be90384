"""Two ticks at once (two beats, or a slow tick overlapping the next) share the due slots:
each reminder is created and queued for delivery exactly once."""

import threading
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection

from prescriptions.models import Reminder
from prescriptions.reminders import tick
from tests.prescriptions.reminders_support import scheduled_prescription

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
    start = threading.Barrier(2)

    def one_tick():
        start.wait()
        try:
            tick.reminders_tick(now=MORNING, deliver=queued.extend)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Reminder.objects.count() == 40
    assert sorted(queued) == sorted(Reminder.objects.values_list("id", flat=True))
