"""Adherence: what each prescription expected, what the patient did, and how their pain
moved (docs/definitions.md).

ledger.py keeps one row per prescription and local date, written from the sources (slots,
zones, status history) as the days come, and rebuilt from them on demand; days.py works
out a prescription's days from its sources (pure time arithmetic); counts.py counts each
check-in on its day; timeline.py tells when a prescription was active; report.py reads a
patient's days and the alert rules' data from the ledger; patient_report.py one
patient's report, its figures by the clinic table's statement; streak.py the current streak
at a check-in; current.py which prescription is a patient's current one. The clinic
table: clinic_table.py sorts, filters and pages every patient's row, computed by the
statements of clinic_sql.py or read from the rows clinic_store.py keeps ahead;
clinic_csv.py streams it as CSV. Other modules call only what this face names.
"""

from prescriptions.adherence.clinic_csv import BOM, csv_columns, csv_response, spreadsheet_safe
from prescriptions.adherence.clinic_store import clinic_rows_refresh
from prescriptions.adherence.clinic_table import ORDERINGS, ClinicRows, clinic_adherence
from prescriptions.adherence.current import current_of, prescription_state, prescription_states
from prescriptions.adherence.days import KINDS
from prescriptions.adherence.ledger import (
    ledger_catch_up,
    ledger_rebuild,
    ledger_rewrite,
    ledger_tick,
    prescription_ledger_rebuild,
    schedule_change,
    schedule_snapshot,
    schedule_start,
    sources_for,
)
from prescriptions.adherence.patient_report import (
    adherence_report,
    checkin_count_and_streak,
    current_streak_days,
)
from prescriptions.adherence.report import (
    DEFAULT_RANGE_DAYS,
    MAX_RANGE_DAYS,
    MEANINGFUL_PAIN_CHANGE,
    PAIN_WINDOW_DAYS,
    RECENT_WEEK_DAYS,
    DayRow,
    PatientData,
    by_day,
    clinic_patients,
    default_range,
    pain_summary,
    report_data,
    resolve_range,
    round1,
)

__all__ = [
    "BOM",
    "DEFAULT_RANGE_DAYS",
    "KINDS",
    "MAX_RANGE_DAYS",
    "MEANINGFUL_PAIN_CHANGE",
    "ORDERINGS",
    "PAIN_WINDOW_DAYS",
    "RECENT_WEEK_DAYS",
    "ClinicRows",
    "DayRow",
    "PatientData",
    "adherence_report",
    "by_day",
    "checkin_count_and_streak",
    "clinic_adherence",
    "clinic_patients",
    "clinic_rows_refresh",
    "csv_columns",
    "csv_response",
    "current_of",
    "current_streak_days",
    "default_range",
    "ledger_catch_up",
    "ledger_rebuild",
    "ledger_rewrite",
    "ledger_tick",
    "pain_summary",
    "prescription_ledger_rebuild",
    "prescription_state",
    "prescription_states",
    "report_data",
    "resolve_range",
    "round1",
    "schedule_change",
    "schedule_snapshot",
    "schedule_start",
    "sources_for",
    "spreadsheet_safe",
]
