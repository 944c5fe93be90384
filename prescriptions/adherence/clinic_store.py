"""Stored clinic rows: each patient's row of the clinic table over their default range,
computed ahead, so that the clinic's table and its CSV read one stored row per patient
instead of computing every row from the ledger at each request.

`clinic_rows_refresh` (every minute, from beat) computes again the rows that no longer
hold (a check-in, an alert, a change of plan, a session fallen due or a new local date
since) with the table's own SQL (clinic_table.py), and stores each with the version of
the patient's figures it was computed at and the instant it stops holding
(models.ClinicRow). Whether a stored row holds is decided where it is read: a refresh that
is late or never runs costs time, never a wrong figure.
"""

from datetime import datetime

from django.db.models import Exists
from django.utils import timezone

import prescriptions.adherence.clinic_row as clinic_row
import prescriptions.adherence.clinic_sql as clinic_sql
import prescriptions.adherence.clinic_table as clinic_table
import prescriptions.adherence.report as adherence
from clinic.models import Clinic
from prescriptions.models import ClinicRow, ClinicRowVersion
from prescriptions.schedule import db_date, db_instant

# Patients computed by one statement (about a quarter of a second at 90 days each).
BATCH = 1000

STORED_FIELDS = [
    *("clinic", "version", "timezone", "computed_at", "fresh_until"),
    *("d_from", "d_to", "today"),
]


def _stored(values: tuple, clinic_id: int, now: datetime) -> ClinicRow:
    """A computed row (clinic_table.ClinicRows.to_store) as it is stored."""
    names = [*clinic_row.COLUMNS, "timezone", "version", "fresh_until"]
    row = dict(zip(names, values, strict=True))
    return ClinicRow(
        patient_id=row["patient"],
        clinic_id=clinic_id,
        version=row["version"],
        timezone=row["timezone"],
        computed_at=now,
        fresh_until=db_instant(row["fresh_until"]),
        d_from=db_date(row["from"]),
        d_to=db_date(row["to"]),
        today=db_date(row["today"]),
        # SQLite answers these two as it stores them: text and 0/1.
        **{name: row[name] for name in clinic_sql.FIGURES}
        | {
            "last_check_in": db_instant(row["last_check_in"]),
            "red_flag_open": bool(row["red_flag_open"]),
        },
    )


def clinic_rows_refresh(*, clinic_id: int | None = None, now: datetime | None = None) -> int:
    """Computes and stores the rows that do not hold at `now` (of one clinic, or all);
    answers how many."""
    now = now or timezone.now()
    clinic_ids = Clinic.objects.values_list("id", flat=True)
    if clinic_id is not None:
        clinic_ids = [clinic_id]
    stored = 0
    for clinic in clinic_ids:
        for archived in (False, True):
            patients = adherence.clinic_patients(clinic, archived=archived)
            fresh = clinic_table.fresh_rows(clinic, now)
            stale = patients.exclude(Exists(fresh)).order_by("id")
            stale_ids = list(stale.values_list("id", flat=True))
            for start in range(0, len(stale_ids), BATCH):
                ids = stale_ids[start : start + BATCH]
                # A version to compute at: the patient's writes raise it from here on.
                ClinicRowVersion.objects.bulk_create(
                    [ClinicRowVersion(patient_id=i) for i in ids], ignore_conflicts=True
                )
                rows = clinic_table.ClinicRows(
                    patients.filter(id__in=ids),
                    clinic_id=clinic,
                    start=None,
                    end=None,
                    ordering="patient",
                    below_pct=None,
                    now=now,
                    stored=False,
                ).to_store()
                ClinicRow.objects.bulk_create(
                    [_stored(values, clinic, now) for values in rows],
                    update_conflicts=True,
                    unique_fields=["patient"],
                    update_fields=[*STORED_FIELDS, *clinic_sql.FIGURES],
                )
                stored += len(rows)
    return stored
