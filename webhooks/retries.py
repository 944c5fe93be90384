"""When a delivery is tried again, and when an endpoint has failed long enough to stop.
Pure time arithmetic (no ORM)."""

from datetime import datetime, timedelta

# The wait after each failed try: the first retry within seconds (a receiver restarting),
# then longer and longer; the nine tries span about 27 hours, so a receiver down for a day
# still gets everything once it is back.
BACKOFF = (
    timedelta(seconds=5),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
# An endpoint that answered nothing but failures this long is switched off.
DISABLE_AFTER = timedelta(hours=24)


def next_try(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` tries that all failed; None: give up."""
    if attempts > len(BACKOFF):
        return None
    return now + BACKOFF[attempts - 1]


def failing_too_long(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER
