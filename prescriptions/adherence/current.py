"""Which of a patient's prescriptions is the current one, and what it reads: the one rule
(docs/definitions.md, "Current prescription") every page, export and table follows."""

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Subquery

from prescriptions.models import Prescription, StatusChange, status_read
from prescriptions.schedule import local_date_of, local_today


def current_of(prescriptions: Iterable[Prescription], today: date) -> Prescription | None:
    """The prescription running on the patient's local `today` (read active or paused, and
    started; the latest started if several), else the next one to start, else the latest
    started of those that have ended; None when the patient has no prescription."""
    running, upcoming, ended = [], [], []
    for rx in prescriptions:
        if status_read(rx.status, rx.end_date, today) == Prescription.Status.ENDED:
            ended.append(rx)
        elif rx.start_date > today:
            upcoming.append(rx)
        else:
            running.append(rx)
    if running:
        return max(running, key=lambda rx: (rx.start_date, rx.id))
    if upcoming:
        return min(upcoming, key=lambda rx: (rx.start_date, rx.id))
    return max(ended, key=lambda rx: (rx.start_date, rx.id), default=None)


def prescription_states(patient_ids: list[int], now: datetime) -> dict[int, dict]:
    """Each patient's current prescription state (see `current_of`), by patient id, in one
    query."""
    last_pause = StatusChange.objects.filter(
        prescription=OuterRef("pk"), status=Prescription.Status.PAUSED
    ).order_by("-effective_at", "-id")
    prescriptions = (
        Prescription.objects.filter(patient_id__in=patient_ids)
        .select_related("patient")
        .only("id", "patient_id", "status", "start_date", "end_date", "patient__timezone")
        .annotate(
            paused_at=Subquery(last_pause.values("effective_at")[:1]),
            pause_reason=Subquery(last_pause.values("reason")[:1]),
        )
    )
    by_patient: dict[int, list[Prescription]] = {}
    for rx in prescriptions:
        by_patient.setdefault(rx.patient_id, []).append(rx)
    states = {}
    for patient_id, theirs in by_patient.items():
        tz = ZoneInfo(theirs[0].patient.timezone)
        today = local_today(tz, now)
        states[patient_id] = prescription_state(current_of(theirs, today), today, tz)
    return states


def prescription_state(rx: Prescription, today: date, tz: ZoneInfo) -> dict:
    """The current prescription as the clinic table shows it: active, upcoming (with its
    start), paused (since when, and why) or ended."""
    status = status_read(rx.status, rx.end_date, today)
    if status == Prescription.Status.ENDED:
        return {"id": rx.id, "status": "ended"}
    if status == Prescription.Status.PAUSED:
        return {
            "id": rx.id,
            "status": "paused",
            # The patient's own date, like every day of their adherence row.
            "since": local_date_of(rx.paused_at, tz) if rx.paused_at else None,
            "reason": rx.pause_reason,
        }
    if rx.start_date > today:
        return {"id": rx.id, "status": "upcoming", "since": rx.start_date}
    return {"id": rx.id, "status": "active"}
