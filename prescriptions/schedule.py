"""Pure time arithmetic for local slots and dates. No ORM here.

Instants are stored in UTC; everything the patient sees is computed in their IANA zone.
"""

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo

# A bedtime session logged after midnight but before this hour still belongs to the
# evening before: the patient simply went to bed late.
LATE_BEDTIME_CUTOFF = time(4, 0)

# Mirrors of the model choices, so this module stays free of the ORM.
ACTIVE = "active"
BEDTIME = "bedtime"


def db_date(value) -> date:
    """A date as raw SQL answers it: SQLite hands it back as ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def db_instant(value) -> datetime | None:
    """An instant as raw SQL answers it, aware: ISO text (SQLite's, or the clinic table's
    `instant_text`) or a datetime, naive ones being UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


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


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """The date it is now (or at `now`) in `tz`: every "today" of the product is this."""
    return local_date_of(now or datetime.now(UTC), tz)


def checkin_local_date(performed_at: datetime, tz: ZoneInfo, slot: str) -> date:
    """The local date a check-in counts for (late bedtime sessions count for the evening)."""
    local = performed_at.astimezone(tz)
    if slot == "bedtime" and local.time() < LATE_BEDTIME_CUTOFF:
        return local.date() - timedelta(days=1)
    return local.date()


# --- Reminder time --------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the reminder times of one prescription depend on, read from the database once.

    `history` is the prescription's status changes as (effective_at, status), oldest first;
    `status` is its current status, used alone when there is no history.
    """

    tz: ZoneInfo
    start_date: date
    end_date: date | None
    slots: tuple[tuple[str, time], ...]
    heat_prep_minutes: int
    history: tuple[tuple[datetime, str], ...] = ()
    status: str = ACTIVE


@dataclass(frozen=True)
class Occurrence:
    slot: str
    local_date: date
    fire_at: datetime


def status_at(
    history: Sequence[tuple[datetime, str]], instant: datetime, *, current: str | None = None
) -> str | None:
    """The one answer to "what was the status at this instant": from the history of
    (effective_at, status), oldest first, the last change in effect; None before the first
    change, `current` when there is no history."""
    if not history:
        return current
    index = bisect_right(history, instant, key=itemgetter(0))
    return history[index - 1][1] if index else None


def fire_instant(plan: Plan, kind: str, at: time, day: date) -> datetime:
    """When the reminder for a slot on a local date fires (UTC).

    Heat preparation is subtracted as elapsed time, so the patient gets the full minutes of
    heat even across a clock change.
    """
    instant = local_instant(day, at, plan.tz)
    if kind == BEDTIME and plan.heat_prep_minutes:
        instant -= timedelta(minutes=plan.heat_prep_minutes)
    return instant


def _occurrence(plan: Plan, kind: str, at: time, day: date) -> Occurrence | None:
    if day < plan.start_date or (plan.end_date is not None and day > plan.end_date):
        return None
    fire_at = fire_instant(plan, kind, at, day)
    if status_at(plan.history, fire_at, current=plan.status) != ACTIVE:
        return None
    return Occurrence(slot=kind, local_date=day, fire_at=fire_at)


def occurrences(plan: Plan, first: date, last: date) -> list[Occurrence]:
    """Every reminder of the local dates first..last (inclusive), in firing order."""
    found = []
    day = first
    while day <= last:
        for kind, at in plan.slots:
            occurrence = _occurrence(plan, kind, at, day)
            if occurrence is not None:
                found.append(occurrence)
        day += timedelta(days=1)
    return sorted(found, key=lambda o: (o.fire_at, o.slot))


def next_occurrence(plan: Plan, kind: str, at: time, after: datetime) -> Occurrence | None:
    """The first reminder of one slot that fires strictly after `after`; None when none will.

    Status changes never lie in the future, so once the last one is behind us and it left
    the prescription paused or ended, nothing will fire again until someone changes it (and
    that change reschedules).
    """
    last_change = plan.history[-1][0] if plan.history else None
    # Heat preparation can pull a reminder into the evening before its date.
    day = max(plan.start_date, local_date_of(after, plan.tz) - timedelta(days=1))
    while plan.end_date is None or day <= plan.end_date:
        fire_at = fire_instant(plan, kind, at, day)
        if fire_at > after:
            status = status_at(plan.history, fire_at, current=plan.status)
            if status == ACTIVE:
                return Occurrence(slot=kind, local_date=day, fire_at=fire_at)
            if last_change is None or fire_at >= last_change:
                return None
        day += timedelta(days=1)
    return None
