"""One patient's adherence report (`GET patients/{id}/adherence/`, the staff and the
patient's own pages, the CSV's rows): its figures are the clinic table's, computed by the
same statement (clinic_table.ClinicRows, clinic_sql.py) over this patient alone, so each
figure has one definition; its `by_day` is worked out from the ledger's rows of the range
(report.by_day), which the statement does not give."""

from datetime import date, datetime

from django.db.models import Value
from django.utils import timezone

from patients.models import Patient
from prescriptions.adherence.clinic_table import ClinicRows
from prescriptions.adherence.report import by_day, ledger_days

COUNTS = (
    "expected_sessions",
    "completed_sessions",
    "active_days",
    "days_with_session",
    "current_streak_days",
    "extra_sessions",
    "night_sessions",
)


def adherence_report(
    *, patient: Patient, start: date, end: date, now: datetime | None = None
) -> dict:
    """Three queries: the patient's zone and whether their ledger is behind (then caught up
    first), the figures, and the ledger's rows of the range for `by_day`."""
    now = now or timezone.now()
    row = patient_figures(patient, start=start, end=end, now=now)
    return {
        "patient": patient.id,
        "from": start,
        "to": end,
        # PostgreSQL sums integers as numeric: whole numbers, said as such.
        **{name: int(row[name]) for name in COUNTS},
        "adherence_pct": row["adherence_pct"],
        "pain": row["pain"],
        "by_day": by_day(ledger_days(patient.id, start, end), start, end, now),
    }


def patient_figures(patient: Patient, *, start: date, end: date, now: datetime) -> dict:
    """The patient's row of the clinic table over `start`..`end`, archived or not."""
    # `activated` is read by the clinic table's pages only.
    mine = Patient.objects.filter(pk=patient.pk).annotate(activated=Value(False))
    rows = ClinicRows(
        mine,
        clinic_id=patient.clinic_id,
        start=start,
        end=end,
        ordering="patient",
        below_pct=None,
        now=now,
        stored=False,
        patient_id=patient.pk,
    )
    (row,) = rows[:]
    return row
