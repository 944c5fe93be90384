"""Beat's schedule: when each periodic task runs."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from config import celery_app


@pytest.mark.parametrize("name", ["reminders-tick", "clinic-rows-refresh"])
def test_it_runs_on_the_minute_whatever_time_beat_started(name):
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    schedule = entry["schedule"]
    schedule.app = celery_app
    # Beat started at 06:59:30 and ran the task then: the next run is 07:00:00, so a
    # reminder due at 07:00 is not held back until 07:00:30, nor the clinic rows that
    # the sessions due at 07:00 outdated.
    started = datetime(2026, 3, 10, 6, 59, 30, tzinfo=UTC)
    with time_machine.travel(started, tick=False):
        assert schedule.remaining_estimate(started) == timedelta(seconds=30)

    on_the_minute = datetime(2026, 3, 10, 7, 0, 0, tzinfo=UTC)
    with time_machine.travel(on_the_minute, tick=False):
        assert schedule.remaining_estimate(on_the_minute) == timedelta(seconds=60)


def test_it_drops_a_tick_that_waited_longer_than_its_minute():
    assert settings.CELERY_BEAT_SCHEDULE["reminders-tick"]["options"]["expires"] < 60
