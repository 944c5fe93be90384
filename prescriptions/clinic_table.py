"""The clinic table: one adherence row per patient of a clinic, sorted, filtered, paged.

Read by the API (`GET adherence/`, JSON and CSV) and by the clinic team's web page alike.
`clinic_adherence` is the one entry point: it answers a sequence whose slices compute
only their own patients when the database can order them, and every patient once when
the order (or a filter) depends on a computed figure.
"""

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from prescriptions import adherence
from prescriptions.models import Prescription, StatusChange, status_read
from prescriptions.schedule import local_date_of, local_today

# Orderings the database can do before anything is computed, so a page computes only its
# own patients; the others need every row of the clinic computed first.
SQL_ORDERINGS = {
    "last_name": ("last_name", "first_name", "id"),
    "patient": ("id",),
    "last_check_in": ("last_check_in",),
    "open_alerts": ("open_alerts",),
}
COMPUTED_ORDERINGS = {
    "adherence_pct",
    "adherence_pct_7d",
    "current_streak_days",
    "expected_sessions",
    "completed_sessions",
    "active_days",
    "days_with_session",
    "extra_sessions",
    "night_sessions",
    "pain_change",
}
ORDERINGS = frozenset({*SQL_ORDERINGS, *COMPUTED_ORDERINGS})


def _sort_key(row: dict, field: str):
    return row["pain"]["change"] if field == "pain_change" else row[field]


def sort_rows(rows: list[dict], field: str, descending: bool) -> list[dict]:
    """Sorted on one computed field, rows without a value last either way."""
    present = [r for r in rows if _sort_key(r, field) is not None]
    missing = [r for r in rows if _sort_key(r, field) is None]
    return sorted(present, key=lambda r: _sort_key(r, field), reverse=descending) + missing


class ClinicRows(Sequence):
    """The rows of a clinic table in order; `len()` and slices are what a paginator asks."""

    def __init__(self, patients: QuerySet, *, clinic_id, start, end, ordering, below_pct, now):
        self.field = ordering.removeprefix("-")
        self.descending = ordering.startswith("-")
        self.clinic_id = clinic_id
        self.start, self.end, self.now = start, end, now
        self.below_pct = below_pct
        self.computed = self.field in COMPUTED_ORDERINGS or below_pct is not None
        if self.field in SQL_ORDERINGS:
            order = [
                F(name).desc(nulls_last=True) if self.descending else F(name).asc(nulls_last=True)
                for name in SQL_ORDERINGS[self.field]
            ]
        else:
            order = SQL_ORDERINGS["last_name"]
        self.patients = patients.order_by(*order)
        self._everyone: list[dict] | None = None
        self._count: int | None = None

    def _rows(self, patients: list) -> list[dict]:
        return adherence.clinic_rows(
            patients,
            start=self.start,
            end=self.end,
            now=self.now,
            # A whole clinic reads its check-ins by clinic, not by a list of ids.
            clinic_id=self.clinic_id if self.computed else None,
        )

    def everyone(self) -> list[dict]:
        if self._everyone is None:
            rows = self._rows(list(self.patients))
            if self.below_pct is not None:
                rows = [
                    r
                    for r in rows
                    if r["adherence_pct"] is not None and r["adherence_pct"] < self.below_pct
                ]
            if self.field in COMPUTED_ORDERINGS:
                rows = sort_rows(rows, self.field, self.descending)
            self._everyone = rows
        return self._everyone

    def __len__(self) -> int:
        if self.computed:
            return len(self.everyone())
        if self._count is None:
            self._count = self.patients.count()
        return self._count

    def __getitem__(self, index):
        if self.computed:
            return self.everyone()[index]
        if isinstance(index, slice):
            return self._rows(list(self.patients[index]))
        return self._rows([self.patients[index]])[0]


def clinic_adherence(
    *,
    clinic_id: int,
    patients: QuerySet | None = None,
    start: date | None = None,
    end: date | None = None,
    ordering: str = "last_name",
    below_pct: float | None = None,
    now: datetime | None = None,
) -> ClinicRows:
    """The clinic's rows over `start`..`end`, or each patient's own last 28 local days.

    `patients` narrows the clinic's patients (a search, a filter) and must come from
    `adherence.clinic_patients`; `below_pct` keeps the rows whose adherence is under it;
    `ordering` is one of ORDERINGS, `-` first for descending (empty values last).
    """
    if ordering.removeprefix("-") not in ORDERINGS:
        raise ValueError(f"unknown ordering {ordering!r}")
    if patients is None:
        patients = adherence.clinic_patients(clinic_id)
    return ClinicRows(
        patients,
        clinic_id=clinic_id,
        start=start,
        end=end,
        ordering=ordering,
        below_pct=below_pct,
        now=now or timezone.now(),
    )


# --- Each patient's current prescription, for the rows shown -----------------------------


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


# --- CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = [
    "patient",
    "first_name",
    "last_name",
    "from",
    "to",
    "expected_sessions",
    "completed_sessions",
    "adherence_pct",
    "active_days",
    "days_with_session",
    "current_streak_days",
    "extra_sessions",
    "night_sessions",
    "pain_baseline",
    "pain_recent",
    "pain_change",
    "pain_meaningful",
    "last_check_in",
    "open_alerts",
    "prescription_status",
    "adherence_pct_7d",
]


def spreadsheet_safe(text: str) -> str:
    """A name a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime):
        # UTC with a Z, whatever the server's TIME_ZONE: an export means the same anywhere.
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def as_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        pain = row["pain"]
        flat = {
            **row,
            "pain_baseline": pain["baseline"],
            "pain_recent": pain["recent"],
            "pain_change": pain["change"],
            "pain_meaningful": pain["meaningful"],
        }
        cells = {name: _cell(flat.get(name)) for name in CSV_COLUMNS}
        cells["first_name"] = spreadsheet_safe(cells["first_name"])
        cells["last_name"] = spreadsheet_safe(cells["last_name"])
        writer.writerow(cells)
    return out.getvalue()


def csv_filename(clinic, start: date, end: date) -> str:
    return f"adherence-{clinic.slug}-{start.isoformat()}-{end.isoformat()}.csv"
