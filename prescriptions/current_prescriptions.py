"""Each patient's current prescription, as the clinic's pages show it beside their row:
active, upcoming (with its start), paused (since when, and why) or ended."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Subquery

from prescriptions.models import Prescription, StatusChange, status_read
from prescriptions.schedule import local_date_of, local_today


def prescription_states(patient_ids: list[int], now: datetime) -> dict[int, dict]:
    """Each patient's current prescription state, by patient id, in one query.

    The current prescription is the newest one still running, else the newest that ended:
    a patient given a new course after an old one shows the new one.
    """
    last_pause = StatusChange.objects.filter(
        prescription=OuterRef("pk"), status=Prescription.Status.PAUSED
    ).order_by("-effective_at", "-id")
    prescriptions = (
        Prescription.objects.filter(patient_id__in=patient_ids)
        .order_by("-start_date", "-id")
        .values("id", "patient_id", "status", "start_date", "end_date", "patient__timezone")
        .annotate(
            paused_at=Subquery(last_pause.values("effective_at")[:1]),
            pause_reason=Subquery(last_pause.values("reason")[:1]),
        )
    )
    states: dict[int, dict] = {}
    for rx in prescriptions:
        state = prescription_state(rx, now)
        current = states.get(rx["patient_id"])
        if current is None or (current["status"] == "ended" and state["status"] != "ended"):
            states[rx["patient_id"]] = state
    return states


def prescription_state(rx: dict, now: datetime) -> dict:
    tz = ZoneInfo(rx["patient__timezone"])
    today = local_today(tz, now)
    status = status_read(rx["status"], rx["end_date"], today)
    if status == Prescription.Status.ENDED:
        return {"id": rx["id"], "status": "ended"}
    if status == Prescription.Status.PAUSED:
        paused_at = rx["paused_at"]
        return {
            "id": rx["id"],
            "status": "paused",
            # The patient's own date, like every day of their adherence row.
            "since": local_date_of(paused_at, tz) if paused_at else None,
            "reason": rx["pause_reason"],
        }
    if rx["start_date"] > today:
        return {"id": rx["id"], "status": "upcoming", "since": rx["start_date"]}
    return {"id": rx["id"], "status": "active"}
