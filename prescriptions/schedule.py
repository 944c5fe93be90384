"""Pure time arithmetic for local slots and dates. No ORM here.

Instants are stored in UTC; everything the patient sees is computed in their IANA zone.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A bedtime session logged after midnight but before this hour still belongs to the
# evening before: the patient simply went to bed late.
LATE_BEDTIME_CUTOFF = time(4, 0)


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    fold=0 (PEP 495) reads a time that does not exist (spring forward) with the offset in
    force before the change, and a time that happens twice (fall back) as its first
    occurrence.
    """
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant the local date begins (where midnight is skipped, the first instant)."""
    return local_instant(day, time(0), tz)


def local_date_of(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def checkin_local_date(performed_at: datetime, tz: ZoneInfo, slot: str) -> date:
    """The local date a check-in counts for (late bedtime sessions count for the evening)."""
    local = performed_at.astimezone(tz)
    if slot == "bedtime" and local.time() < LATE_BEDTIME_CUTOFF:
        return local.date() - timedelta(days=1)
    return local.date()
