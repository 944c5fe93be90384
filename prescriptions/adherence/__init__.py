"""Adherence: what each prescription expected, what the patient did, and how their pain moved
(docs/definitions.md).

Every figure has one definition, the clinic table's statement (clinic_sql.py, put together
by clinic_table.py over the patients and dates of clinic_scope.py): the clinic's rows, one
patient's report, the streak a check-in's advice quotes and the figures the alert rules
weigh are all computed by it (patient_report.py), or read from the rows clinic_store.py
keeps ahead of it; clinic_csv.py streams the rows as CSV. Underneath, the ledger (ledger/)
keeps one row per prescription and local date: the sessions due, from the sources (slots,
zones, status history, days.py's time arithmetic), and the check-ins counted on their day;
and one row per patient with what reads alike for every range (the first week's pain, the
last check-in); it alone writes them. report.py reads a report's days one by one and the
alert rules' data from the ledger; timeline.py tells when a prescription was active;
current.py which prescription is a patient's current one, by the SQL of current_sql.py
(which the clinic table's statement reads too). Other modules call only what this face
names.
"""

from prescriptions.adherence.clinic_csv import BOM, csv_columns, csv_response, spreadsheet_safe
from prescriptions.adherence.clinic_store import clinic_rows_refresh
from prescriptions.adherence.clinic_table import ORDERINGS, ClinicRows, clinic_adherence
from prescriptions.adherence.current import (
    current_of,
    prescription_state,
    prescription_states,
    with_current,
)
from prescriptions.adherence.days import KINDS
from prescriptions.adherence.ledger import (
    PAIN_WINDOW_DAYS,
    ledger_catch_up,
    ledger_patients_refresh,
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
    patients_figures,
)
from prescriptions.adherence.report import (
    DEFAULT_RANGE_DAYS,
    MAX_RANGE_DAYS,
    MEANINGFUL_PAIN_CHANGE,
    RECENT_WEEK_DAYS,
    DayRow,
    PatientData,
    clinic_patients,
    default_range,
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
    "ledger_patients_refresh",
    "ledger_rebuild",
    "ledger_rewrite",
    "ledger_tick",
    "patients_figures",
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
    "with_current",
]
