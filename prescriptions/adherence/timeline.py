"""One prescription's status at an instant and the dates it spans, from its dates and status
history: what the no-check-in alert rule asks of a prescription now. Which of its days were
active days is the ledger's to say (ledger/, days.py)."""

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from prescriptions.models import Prescription
from prescriptions.schedule import local_date_of, local_midnight, status_at

ACTIVE = Prescription.Status.ACTIVE
ENDED = Prescription.Status.ENDED


@dataclass
class Timeline:
    """When one prescription was active, from its dates and status history."""

    id: int
    start_date: date
    end_date: date | None
    tz: ZoneInfo
    # The zone it began in (its first schedule's), when the patient has moved since.
    began_in: ZoneInfo | None = None
    # (effective_at, status), oldest first.
    changes: list[tuple[datetime, str]] = field(default_factory=list)
    last_day: date | None = None

    def __post_init__(self) -> None:
        # A prescription is active from 00:00 local of its start date, in the zone it began
        # in, whatever instant its first status row carries; changes recorded later in the
        # history override it (as the ledger has it, see days.Sources).
        self.changes = [(local_midnight(self.start_date, self.began_in or self.tz), ACTIVE)]
        self.last_day = self.end_date

    def add_change(self, status: str, effective_at: datetime) -> None:
        if effective_at < self.changes[0][0]:
            return
        self.changes.append((effective_at, status))
        if status == ENDED:
            ended_on = local_date_of(effective_at, self.tz)
            self.last_day = min(ended_on, self.last_day or ended_on)

    def status_at(self, instant: datetime) -> str | None:
        return status_at(self.changes, instant)

    def spans(self, day: date) -> bool:
        return self.start_date <= day and (self.last_day is None or day <= self.last_day)
