"""One patient's figures, from the one engine that defines them: the clinic table's
statement (clinic_table.ClinicRows, clinic_sql.py) run for this patient alone. Their
adherence report (`GET patients/{id}/adherence/`, the staff and the patient's own pages),
the streak a check-in's advice quotes, and the figures the alert rules weigh all come from
it, so each figure is defined once, and so are a report's `by_day`, the dates of its range
as the same statement's days part sums them."""

from collections.abc import Callable
from datetime import date, datetime

from django.db.models import Value
from django.utils import timezone

import prescriptions.adherence.ledger as ledger
from patients.models import Patient
from prescriptions.adherence.clinic_row import tenths
from prescriptions.adherence.clinic_table import ClinicRows
from prescriptions.adherence.report import dates_between
from prescriptions.models import CheckIn
from prescriptions.schedule import db_date

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
    first), the figures, and the figures of each date for `by_day`."""
    rows = _engine(patient, start=start, end=end, now=now or timezone.now())
    (row,) = rows[:]
    return {
        "patient": patient.id,
        "from": start,
        "to": end,
        # PostgreSQL sums integers as numeric: whole numbers, said as such.
        **{name: int(row[name]) for name in COUNTS},
        "adherence_pct": row["adherence_pct"],
        "pain": row["pain"],
        "by_day": by_day(rows.days(), start, end),
    }


def by_day(days: list[tuple], start: date, end: date) -> list[dict]:
    """Every date of start..end, from the statement's dates (ClinicRows.days); a date the
    ledger does not have expected nothing and had no check-in."""
    found = {db_date(day): figures for _, day, *figures in days}
    report = []
    for day in dates_between(start, end):
        expected, completed, extra, pain_tenths = found.get(day, (0, 0, 0, None))
        report.append(
            {
                "date": day,
                "expected": int(expected),
                "completed": int(completed),
                "extra": int(extra),
                "pain_before_mean": tenths(pain_tenths),
            }
        )
    return report


def patients_figures(
    patients: list[Patient], *, now: datetime, window: Callable | None = None
) -> dict[int, dict]:
    """Each patient's row (the patients of one clinic, whose ledger the caller has caught up)
    over their default range, or over `window(today)` (a function of each one's today),
    computed afresh in one query."""
    if not patients:
        return {}
    rows = _engine(*patients, now=now, window=window, zones=sorted({p.timezone for p in patients}))
    return {row["patient"]: row for row in rows[:]}


def current_streak_days(*, patient: Patient, now: datetime | None = None) -> int:
    """The `current_streak_days` of the patient's default report (the 28 days up to today),
    computed as in their row, without the rest of it: one query, and more when their ledger
    is behind and must first be caught up, as a report does."""
    rows = _engine(
        patient,
        ordering="current_streak_days",
        now=now or timezone.now(),
        zones=[patient.timezone],
    )
    return int(rows.keys()[patient.pk])


def checkin_count_and_streak(checkin: CheckIn, now: datetime) -> int:
    """A check-in's one call into adherence, inside its transaction: the ledger counts it on
    its day, then the patient's current streak, this check-in included, is read for its
    advice."""
    ledger.checkin_count(checkin)
    return current_streak_days(patient=checkin.patient, now=now)


def _engine(*patients: Patient, start=None, end=None, ordering="patient", **options) -> ClinicRows:
    """The engine over these patients of one clinic, archived or not, every row computed
    afresh (never read from the stored ones): `options` as ClinicRows takes them. One
    patient's ledger alone is caught up when the rows are theirs."""
    ids = [patient.pk for patient in patients]
    return ClinicRows(
        # `activated` is read by the clinic table's pages only.
        Patient.objects.filter(pk__in=ids).annotate(activated=Value(False)),
        clinic_id=patients[0].clinic_id,
        start=start,
        end=end,
        ordering=ordering,
        below_pct=None,
        stored=False,
        patient_id=ids[0] if len(ids) == 1 else None,
        **options,
    )
