"""The patient's current streak at a check-in, for its advice: read from the ledger's rows
of the default report's days alone and, on PostgreSQL, in the same statement that counts
the check-in on its day (one round trip fewer inside the prescription's row lock)."""

from collections import defaultdict
from datetime import date, datetime
from operator import attrgetter

from django.db import connection
from django.utils import timezone

import prescriptions.adherence.counts as counts
import prescriptions.adherence.ledger as ledger
from patients.models import Patient
from prescriptions.adherence.report import DAY_FIELDS, DayRow, default_range, streak_in
from prescriptions.models import AdherenceDay, CheckIn, Prescription
from prescriptions.schedule import local_date_of


def current_streak_days(*, patient: Patient, now: datetime | None = None) -> int:
    """The `current_streak_days` of the patient's default report (the 28 days up to today),
    read from the ledger's rows of those days alone, for a check-in's advice: one query, and
    two more when the ledger is behind and must first be caught up, as a report does."""
    now = now or timezone.now()
    start, today = default_range(local_date_of(now, patient.zone))
    found = _streak_rows(patient.id, start, today, now)
    if not found or found[0].behind:
        ledger.ledger_catch_up(patient_ids=[patient.id], now=now)
        found = _streak_rows(patient.id, start, today, now)
    days = defaultdict(list)
    for row in found:
        days[row.local_date].append(DayRow._make(_day_fields(row)))
    return streak_in(days, start, today, today, now)


# Whether one of the patient's prescriptions has its ledger behind (patient, now).
BEHIND = f"""EXISTS(
    SELECT 1 FROM {Prescription._meta.db_table} p
    WHERE p.patient_id = %s AND p.ledger_until <= %s
) AS behind"""

# Written out once rather than built by the ORM at every check-in: building and compiling
# the query cost more CPU than the database spent answering it (bench/RESULTS.md). Whether
# one of the patient's prescriptions is behind travels on every row, as `behind`.
STREAK_ROWS = f"""
    SELECT d.id, d.local_date, {", ".join(f"d.{name}" for name in DAY_FIELDS)},
        {BEHIND}
    FROM {AdherenceDay._meta.db_table} d
    WHERE d.patient_id = %s AND d.local_date BETWEEN %s AND %s
"""
_day_fields = attrgetter(*DAY_FIELDS)


def _streak_rows(patient_id: int, start: date, end: date, now: datetime) -> list[AdherenceDay]:
    ops = connection.ops
    instant = ops.adapt_datetimefield_value(now)
    dates = (ops.adapt_datefield_value(start), ops.adapt_datefield_value(end))
    return list(AdherenceDay.objects.raw(STREAK_ROWS, [patient_id, instant, patient_id, *dates]))


def checkin_count_and_streak(checkin: CheckIn, now: datetime) -> int:
    """Counts a check-in on its day (counts.checkin_count) and answers the patient's
    current_streak_days after it, what its advice needs, in one call: on PostgreSQL from the
    count's own statement, else (another database, a day the ledger had no row for, a
    ledger behind or without a row in the range) by current_streak_days."""
    streak = _count_and_streak(checkin, now)
    if streak is None:
        return current_streak_days(patient=checkin.patient, now=now)
    return streak


def _count_and_streak(checkin: CheckIn, now: datetime) -> int | None:
    if connection.vendor != "postgresql":
        counts.checkin_count(checkin)
        return None
    patient_id = checkin.patient_id
    start, today = default_range(local_date_of(now, checkin.patient.zone))
    prescription_id, local_date = checkin.prescription_id, checkin.local_date
    with connection.cursor() as cursor:
        cursor.execute(
            COUNT_CHECK_IN_STREAK_ROWS,
            [
                *counts.count_params(checkin),
                patient_id,
                now,
                patient_id,
                start,
                today,
                prescription_id,
                local_date,
            ],
        )
        found = cursor.fetchall()
    if not any(row[0] for row in found):
        counts.checkin_day_create(checkin)
        return None
    days = defaultdict(list)
    for _, day, *fields, behind in found:
        if behind:
            return None
        if start <= day <= today:
            days[day].append(DayRow._make(fields))
    return streak_in(days, start, today, today, now) if days else None


# What counts.checkin_count does (the day counted) and STREAK_ROWS as one statement, one
# round trip fewer inside the prescription's row lock. (The check-in's event outdates the
# stored clinic row, once the check-in is written: readers.py.)
# Every part of a statement reads the same snapshot, taken before the count: the counted
# day comes from the UPDATE's RETURNING, as it is after this check-in (flagged `counted`),
# the patient's other days of the range from the table.
COUNT_CHECK_IN_STREAK_ROWS = f"""
    WITH counted AS (
        {counts.COUNT_CHECK_IN} RETURNING local_date, {", ".join(DAY_FIELDS)}
    )
    SELECT rows.*,
        {BEHIND}
    FROM (
        SELECT TRUE AS counted, local_date, {", ".join(DAY_FIELDS)} FROM counted
        UNION ALL
        SELECT FALSE, d.local_date, {", ".join(f"d.{name}" for name in DAY_FIELDS)}
        FROM {AdherenceDay._meta.db_table} d
        WHERE d.patient_id = %s AND d.local_date BETWEEN %s AND %s
            AND NOT (d.prescription_id = %s AND d.local_date = %s)
    ) rows
"""
