"""Quiet hours that leave no reminder: a patient who sets 21:00 to 09:00 with sessions at 07:30
and 22:30 gets none, and only notices when they stop coming. Saving such hours is allowed
(a patient may want no reminders for a while), but the page warns. Pure time arithmetic,
on the rule the tick applies (reminders.tick.in_quiet_hours)."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from prescriptions.reminders.tick import in_quiet_hours
from prescriptions.schedule import BEDTIME


def reminder_clock_time(kind: str, at: time, heat_minutes: int = 0) -> time:
    """The local clock time a slot's reminder comes: a bedtime one `heat_minutes` early."""
    if kind != BEDTIME or not heat_minutes:
        return at
    return (datetime.combine(date(2000, 1, 2), at) - timedelta(minutes=heat_minutes)).time()


def quiet_hours_cover_every_slot(
    quiet_start: time | None,
    quiet_end: time | None,
    slots: Iterable[tuple[str, time]],
    heat_minutes: int = 0,
) -> bool:
    """Whether every slot's reminder falls inside the quiet hours (so none is ever sent).
    Without quiet hours, or without slots, nothing is covered."""
    times = [reminder_clock_time(kind, at, heat_minutes) for kind, at in slots]
    return bool(times) and all(in_quiet_hours(quiet_start, quiet_end, t) for t in times)
