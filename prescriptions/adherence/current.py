"""Which of a patient's prescriptions is the current one, and what it reads: the one rule
(docs/definitions.md, "Current prescription") every page, export and table follows, read
from its SQL (current_sql.py), which the clinic table's statement reads too."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL

import prescriptions.adherence.current_sql as current_sql
from prescriptions.models import Prescription, StatusChange, status_read
from prescriptions.schedule import local_date_of, local_today

_TABLE = Prescription._meta.db_table


def _is_current(today: date) -> RawSQL:
    """Whether a prescription is its patient's current one on `today`."""
    current_id = current_sql.CURRENT_ID.format(patient=f"{_TABLE}.patient_id", today="%s")
    return RawSQL(
        f"{_TABLE}.id = {current_id}",
        [today] * current_id.count("%s"),
        output_field=BooleanField(),
    )


def with_current(prescriptions: QuerySet, today: date) -> QuerySet:
    """The prescriptions, each with `is_current`: whether it is its patient's current one
    on `today`, the patient's local date."""
    return prescriptions.annotate(is_current=_is_current(today))


def current_of(prescriptions: QuerySet, today: date) -> Prescription | None:
    """The patient's current prescription on their local `today`, of `prescriptions` (theirs):
    the one running (the latest started if several), else the next one to start, else the
    latest started of those that have ended; None when the patient has no prescription."""
    return prescriptions.alias(is_current=_is_current(today)).filter(is_current=True).first()


def prescription_states(patient_ids: list[int], now: datetime) -> dict[int, dict]:
    """Each patient's current prescription state (see `prescription_state`), by patient id,
    in one query.

    Which one is current depends on the patient's today, so on their zone, which this same
    query reads. At any instant a zone's today is the UTC date or a day either side of it
    (zones run from UTC-12 to UTC+14): the query flags the current one on each of the three,
    and each patient reads the flag of their own today."""
    utc_today = now.astimezone(UTC).date()
    days = [utc_today + timedelta(days=n) for n in (-1, 0, 1)]
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
            **{f"current_on_{n}": _is_current(day) for n, day in enumerate(days)},
        )
    )
    states = {}
    for rx in prescriptions:
        tz = ZoneInfo(rx.patient.timezone)
        today = local_today(tz, now)
        if getattr(rx, f"current_on_{days.index(today)}"):
            states[rx.patient_id] = prescription_state(rx, today, tz)
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
