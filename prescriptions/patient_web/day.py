"""What the patient's own pages read about their sessions: today's plan as it stands (which
session is next, which are still to come), and the zone each check-in was done in.

Today's plan is read from the adherence ledger, the one place that says which session of
a date falls due and when (pauses, the first day's rule, a move between zones), so these
pages never name a session the reports would not expect."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from prescriptions import adherence
from prescriptions.models import AdherenceDay, CheckIn
from prescriptions.schedule import checkin_local_date

# A session checked in this long after its time is still the one a check-in is most likely
# for (a late morning); one gone by longer ago is left behind for the next.
LATE = timedelta(hours=3)


@dataclass(frozen=True)
class Session:
    kind: str
    due_at: datetime
    done: bool


def sessions_now(patient, now: datetime | None = None) -> list[Session]:
    """The sessions of the patient's plan that a check-in made now would count for, each
    on the date such a check-in would take (a bedtime one until 04:00 the next morning),
    in order of their time. Two queries, and the ledger caught up first when it is behind,
    as a report would."""
    now = now or timezone.now()
    tz = patient.zone
    dates = {kind: checkin_local_date(now, tz, kind) for kind in adherence.KINDS}
    adherence.ledger_catch_up(patient_ids=[patient.id], now=now)
    found: dict[str, Session] = {}
    for row in AdherenceDay.objects.filter(
        patient_id=patient.id, local_date__in=set(dates.values())
    ):
        for kind in adherence.KINDS:
            due_at = getattr(row, f"{kind}_due_at")
            if row.local_date != dates[kind] or due_at is None:
                continue
            done = getattr(row, f"{kind}_check_ins") > 0
            if kind in found:  # two prescriptions on one date: the earlier time, done by either
                done = done or found[kind].done
                due_at = min(due_at, found[kind].due_at)
            found[kind] = Session(kind, due_at, done)
    return sorted(found.values(), key=lambda session: session.due_at)


def next_due(sessions: list[Session], now: datetime) -> str | None:
    """The session a check-in made now is most likely for: the first not yet checked in
    whose time is still ahead or gone by less than LATE (after a heat-first reminder, the
    bedtime one ten minutes before its time); None when there is none."""
    for session in sessions:
        if not session.done and session.due_at > now - LATE:
            return session.kind
    return None


def still_due(sessions: list[Session], now: datetime) -> list[dict]:
    """Today's sessions not checked in yet, each with whether its time is still ahead."""
    return [
        {"kind": s.kind, "due_at": s.due_at, "ahead": s.due_at > now}
        for s in sessions
        if not s.done
    ]


def zones_done_in(check_ins: list[CheckIn]) -> dict[int, ZoneInfo]:
    """Each check-in's id → the zone its patient was in when they did it, as the ledger's
    schedule history records the zone in force at that instant (the patient's present zone
    for a prescription that has no history). Four queries however many check-ins."""
    sources = adherence.sources_for({c.prescription_id for c in check_ins})
    return {c.id: sources[c.prescription_id].schedule_at(c.performed_at).tz for c in check_ins}
