"""A prescription's history, oldest first: its creation, every plan change (PlanChange,
with each field before → after) and every pause, resume and end (StatusChange). The API's
`prescriptions/{id}/history/` and the patient page read it from here.

Nothing new is stored for the status changes: the first StatusChange of a prescription is
its creation, a later `active` one a resume. Every entry is dated when it was recorded
(`at`), so the list is the order in which things were done; a pause, resume or end
recorded for an earlier instant also carries the instant it took effect (`effective_at`).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import TypedDict

from django.db.models import Prefetch

from clinic.models import User
from prescriptions.models import PlanChange, Prescription, StatusChange

STATUS_CHANGE = {
    Prescription.Status.PAUSED: "paused",
    Prescription.Status.ACTIVE: "resumed",
    Prescription.Status.ENDED: "ended",
}


class HistoryEntry(TypedDict):
    at: datetime
    actor: User | None
    change: str  # created, plan, paused, resumed, ended
    reason: str | None
    effective_at: datetime | None
    fields: dict | None


def history_entries(
    status_changes: Iterable[StatusChange], plan_changes: Iterable[PlanChange]
) -> list[HistoryEntry]:
    """One prescription's history from its rows (already read: no query here)."""
    entries: list[HistoryEntry] = []
    first = min(status_changes, key=lambda c: (c.effective_at, c.id), default=None)
    for change in status_changes:
        entries.append(
            {
                "at": change.recorded_at,
                "actor": change.recorded_by,
                "change": "created" if change is first else STATUS_CHANGE[change.status],
                "reason": change.reason or None,
                "effective_at": change.effective_at,
                "fields": None,
            }
        )
    for change in plan_changes:
        entries.append(
            {
                "at": change.at,
                "actor": change.actor,
                "change": "plan",
                "reason": None,
                "effective_at": None,
                "fields": change.fields,
            }
        )
    # The creation first even when a back-dated change was recorded in the same instant.
    entries.sort(key=lambda e: (e["change"] != "created", e["at"]))
    return entries


def history_prefetch() -> list:
    """What `history_entries` reads, for prefetch_related on prescriptions."""
    return [
        Prefetch(
            "status_changes",
            queryset=StatusChange.objects.select_related("recorded_by").order_by(
                "effective_at", "id"
            ),
        ),
        Prefetch(
            "plan_changes",
            queryset=PlanChange.objects.select_related("actor").order_by("at", "id"),
        ),
    ]


def prescription_history(prescription: Prescription) -> list[HistoryEntry]:
    """The history of a prescription read with `history_prefetch()`."""
    return history_entries(prescription.status_changes.all(), prescription.plan_changes.all())
