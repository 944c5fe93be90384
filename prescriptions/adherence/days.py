"""What a prescription expected, day by day, worked out from its sources (the ledger reads
them from the database and writes the result): pure time arithmetic, no queries."""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from prescriptions.models import EPOCH, Prescription
from prescriptions.schedule import local_date_of, local_instant, local_midnight, status_at

ACTIVE = Prescription.Status.ACTIVE
# ledger_until of a prescription that expects nothing more until someone changes it
# (paused, ended, past its end date): the change rewrites it.
FOREVER = datetime(9999, 1, 1, tzinfo=EPOCH.tzinfo)
KINDS = ("morning", "bedtime")


@lru_cache(maxsize=65536)
def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    # Patients share zones and slot times: the same few instants come up again and again.
    return local_instant(day, at, tz)


@dataclass(frozen=True)
class Schedule:
    since: datetime
    tz: ZoneInfo
    slots: tuple[tuple[str, time], ...]


@dataclass
class Sources:
    """Everything one prescription's ledger is worked out from."""

    id: int
    patient_id: int
    start_date: date
    end_date: date | None
    ledger_until: datetime
    schedules: list[Schedule]
    changes: list[tuple[datetime, str]] = field(default_factory=list)
    # When the prescription was written (its created_at); None: every slot asked for.
    written_at: datetime | None = None

    def __post_init__(self) -> None:
        # Active from 00:00 local of the start date, whatever instant its first status row
        # carries; the changes recorded after that instant follow.
        begins = local_midnight(self.start_date, self.schedules[0].tz)
        self.history = [(begins, ACTIVE), *((at, s) for at, s in self.changes if at >= begins)]
        self.starts = [s.since for s in self.schedules]
        self.written_on = (
            None
            if self.written_at is None
            else local_date_of(self.written_at, self.schedule_at(self.written_at).tz)
        )

    def asked_for(self, day: date, instant: datetime) -> bool:
        """Whether the session of `day` falling due at `instant` was ever asked of the
        patient: on the day the prescription was written, nobody could ask for a slot whose
        time had already gone by. A prescription dated back still asks for its earlier
        dates, as the clinician recorded them."""
        return self.written_on is None or day < self.written_on or instant >= self.written_at

    def status_at(self, instant: datetime) -> str | None:
        return status_at(self.history, instant)

    def schedule_at(self, instant: datetime) -> Schedule:
        return self.schedules[max(bisect_right(self.starts, instant) - 1, 0)]

    def in_dates(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)

    def horizon(self, now: datetime) -> tuple[datetime, datetime]:
        """(end of what is written now, next ledger_until): today's last instant in the zone
        in force, or FOREVER as ledger_until when nothing more can fall due unchanged."""
        tz = self.schedule_at(now).tz
        tomorrow = local_date_of(now, tz) + timedelta(days=1)
        written_to = local_midnight(tomorrow, tz)
        if self.status_at(now) not in (ACTIVE, None) or (
            self.end_date is not None and self.end_date < tomorrow
        ):
            return written_to, FOREVER
        return written_to, local_midnight(max(tomorrow, self.start_date), tz)


@dataclass
class Day:
    timezone: str = ""
    active: bool = False
    due: dict[str, tuple[datetime, time]] = field(default_factory=dict)

    def values(self) -> dict:
        values = {"timezone": self.timezone, "active": self.active}
        for kind in KINDS:
            at, slot_time = self.due.get(kind, (None, None))
            values[f"{kind}_due_at"] = at
            values[f"{kind}_time"] = slot_time
        return values


def days_between(src: Sources, start: datetime, stop: datetime) -> dict[date, Day]:
    """The sessions falling due in [start, stop) and the dates active in that span."""
    days: dict[date, Day] = defaultdict(Day)
    # Nothing is due before the start (the first instant of the history) but a day early,
    # in case an earlier zone's date differs.
    start = max(start, src.history[0][0] - timedelta(days=1))
    bounds = [*src.starts[1:], stop]
    for schedule, until in zip(src.schedules, bounds, strict=True):
        lo, hi = max(start, schedule.since), min(stop, until)
        if lo >= hi:
            continue
        day = local_date_of(lo, schedule.tz) - timedelta(days=1)
        last = local_date_of(hi, schedule.tz)
        while day <= last:
            if src.in_dates(day):
                for kind, at in schedule.slots:
                    instant = _instant(day, at, schedule.tz)
                    # One session per kind and date: a slot moved later the same day after
                    # its session fell due does not expect it twice.
                    if (
                        lo <= instant < hi
                        and src.status_at(instant) == ACTIVE
                        and src.asked_for(day, instant)
                    ):
                        entry = days[day]
                        if kind not in entry.due:
                            entry.due[kind] = (instant, at)
                            entry.timezone = schedule.tz.key
            day += timedelta(days=1)

    # A date is active when the prescription was active at some instant of it.
    changes = [at for at, _ in src.history] + src.starts
    cuts = sorted({start, stop, *(i for i in changes if start < i < stop)})
    for lo, hi in pairwise(cuts):
        if src.status_at(lo) != ACTIVE:
            continue
        tz = src.schedule_at(lo).tz
        day, last = local_date_of(lo, tz), local_date_of(hi - timedelta(microseconds=1), tz)
        while day <= last:
            if src.in_dates(day):
                days[day].active = True
                days[day].timezone = days[day].timezone or tz.key
            day += timedelta(days=1)
    return days
