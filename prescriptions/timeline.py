"""When one prescription was active: its dates and status history, asked day by day and
slot by slot by the adherence reports and the alert rules."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from prescriptions.models import Prescription
from prescriptions.schedule import local_date_of, local_instant, local_midnight, status_at

ACTIVE = Prescription.Status.ACTIVE
ENDED = Prescription.Status.ENDED


@lru_cache(maxsize=65536)
def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    # Patients of a clinic share zones and slot times: a report of hundreds of them asks
    # for the same few instants over and over.
    return local_instant(day, at, tz)


@dataclass
class Timeline:
    """When one prescription was active, from its dates and status history."""

    id: int
    start_date: date
    end_date: date | None
    tz: ZoneInfo
    slots: list[tuple[str, time]] = field(default_factory=list)
    # (effective_at, status), oldest first.
    changes: list[tuple[datetime, str]] = field(default_factory=list)
    last_day: date | None = None
    # Never paused nor ended: every day of its span is active, with no instant to look up.
    uninterrupted: bool = True

    def __post_init__(self) -> None:
        # A prescription is active from 00:00 local of its start date whatever instant its
        # first status row carries; changes recorded later in the history override it.
        self.changes = [(local_midnight(self.start_date, self.tz), ACTIVE)]
        self.last_day = self.end_date

    def add_change(self, status: str, effective_at: datetime) -> None:
        if effective_at < self.changes[0][0]:
            return
        self.changes.append((effective_at, status))
        if status != ACTIVE:
            self.uninterrupted = False
        if status == ENDED:
            ended_on = local_date_of(effective_at, self.tz)
            self.last_day = min(ended_on, self.last_day or ended_on)

    @property
    def ever_active(self) -> bool:
        """False for a prescription called off (or paused) from the instant it began."""
        ends = [at for at, _ in self.changes[1:]] + [None]
        return any(
            status == ACTIVE and (end is None or end > start)
            for (start, status), end in zip(self.changes, ends, strict=True)
        )

    def status_at(self, instant: datetime) -> str | None:
        return status_at(self.changes, instant)

    def spans(self, day: date) -> bool:
        return self.start_date <= day and (self.last_day is None or day <= self.last_day)

    def is_active_day(self, day: date) -> bool:
        """Not paused (or ended) for the whole of the day: resumed during it still counts."""
        if not self.spans(day):
            return False
        if self.uninterrupted:
            return True
        start = local_midnight(day, self.tz)
        stop = local_midnight(day + timedelta(days=1), self.tz)
        return self.status_at(start) == ACTIVE or any(
            status == ACTIVE for at, status in self.changes if start < at < stop
        )

    def expected_kinds(self, day: date, now: datetime, today: date) -> list[str]:
        """Slots whose local time on `day` has passed while the prescription was active."""
        if not self.spans(day):
            return []
        if self.uninterrupted and day < today:
            return [kind for kind, _ in self.slots]
        kinds = []
        for kind, at in self.slots:
            instant = _instant(day, at, self.tz)
            if instant <= now and self.status_at(instant) == ACTIVE:
                kinds.append(kind)
        return kinds

    def later_kinds(self, day: date, now: datetime) -> list[str]:
        """Slots still to come on `day` that would be expected if nothing changes."""
        if not self.spans(day) or self.status_at(now) != ACTIVE:
            return []
        return [kind for kind, at in self.slots if _instant(day, at, self.tz) > now]
