"""The ledger's row per patient (models.LedgerPatient): the start of their first prescription
that ran, the check-ins and pain of its first week, their last check-in, how many
prescriptions they have and the last date of their days; the clinic table's statement reads
it (docs/definitions.md, "Pain change").

As the ledger's days do, the row is counted as each check-in comes (`ledger_patient_count`),
and worked out again (`ledger_patients_refresh`) after every other write of the days: from
them, and from the check-ins themselves where those changed (a correction, a rebuild). All
inside the write's transaction; a rebuild's row must equal what was counted."""

from django.db import connection

from prescriptions.adherence.dialects import DIALECTS
from prescriptions.models import AdherenceDay, CheckIn, LedgerPatient, Prescription

# The baseline's dates: the first prescription's start and the six after it.
PAIN_WINDOW_DAYS = 7

_ROW = LedgerPatient._meta.db_table
_DAY = AdherenceDay._meta.db_table

# A row for each patient who has none yet, and every one of them held: on PostgreSQL the
# conflict's update, which changes nothing, locks the row (waiting for a writer that holds
# it), so that what the UPDATE reads next includes every write committed by a transaction
# that held it before (each statement reads what was committed when it began): two
# check-ins at once never leave the row without the later one. In one order, so that two
# writers never wait for each other in a circle.
HOLD = f"""INSERT INTO {_ROW} (patient_id, baseline_check_ins, baseline_pain_sum, prescriptions)
SELECT id, 0, 0, 0 FROM {{patients}} WHERE id IN ({{ids}}) ORDER BY id
ON CONFLICT (patient_id) DO UPDATE SET patient_id = excluded.patient_id"""

# The start of the patient's first prescription that had an active day.
FIRST_START = f"""(SELECT MIN(rx.start_date) FROM {Prescription._meta.db_table} rx
    WHERE rx.patient_id = p.id AND EXISTS (
        SELECT 1 FROM {_DAY} ran WHERE ran.prescription_id = rx.id AND ran.active = {{true}}))"""
PRESCRIPTIONS = f"""(SELECT COUNT(*) FROM {Prescription._meta.db_table} rx
    WHERE rx.patient_id = f.id)"""
LAST_CHECK_IN = f"""(SELECT MAX(c.performed_at) FROM {CheckIn._meta.db_table} c
    WHERE c.patient_id = f.id)"""
LAST_DAY = f"(SELECT MAX(d.local_date) FROM {_DAY} d WHERE d.patient_id = f.id)"
# The first week's days summed, read by the ledger's (patient, date) index; {last}: the
# last check-in as well, where check-ins changed.
FIGURES = """SELECT f.id, f.first_start, COALESCE(SUM(a.check_ins), 0) AS check_ins,
    COALESCE(SUM(a.pain_before_sum), 0) AS pain, {prescriptions} AS prescriptions,
    {last_day} AS last_day{last}
FROM (SELECT p.id, {first_start} AS first_start FROM {patients} p WHERE p.id IN ({ids})) f
LEFT JOIN {day} a ON a.patient_id = f.id AND a.local_date BETWEEN f.first_start AND {window_end}
GROUP BY f.id, f.first_start"""
UPDATE = f"""UPDATE {_ROW} SET first_start = v.first_start, baseline_check_ins = v.check_ins,
    baseline_pain_sum = v.pain, prescriptions = v.prescriptions, last_day = v.last_day{{set_last}}
FROM ({FIGURES}) v WHERE {_ROW}.patient_id = v.id"""


# A check-in counted on its day, before it is stored: the last check-in, its date (a day the
# ledger may have just begun for it), and the first week when it falls in it. Sums, as the
# day's counts are, so that two at once both count; a check-in never makes a day active, so
# the first start stays.
COUNT = f"""UPDATE {_ROW} SET last_check_in = {{last_check_in}}, last_day = {{last_day}},
    baseline_check_ins = baseline_check_ins + {{in_window}},
    baseline_pain_sum = baseline_pain_sum + {{in_window}} * %(pain)s
WHERE patient_id = %(patient)s"""


def ledger_patient_count(check_in: CheckIn, *, days_counted: bool = False) -> None:
    """Counts a check-in in its patient's row, inside its transaction (checkin_count), after
    its day's counts. `days_counted`: the row was just worked out from those days, which
    hold the check-in already; its instant alone is then to count."""
    d = DIALECTS[connection.vendor]
    window_end = d["plus_days"].format("first_start", PAIN_WINDOW_DAYS - 1)
    in_window = f"CASE WHEN %(day)s BETWEEN first_start AND {window_end} THEN 1 ELSE 0 END"
    sql = COUNT.format(
        last_check_in=d["greatest"].format("COALESCE(last_check_in, %(at)s)", "%(at)s"),
        last_day=d["greatest"].format("COALESCE(last_day, %(day)s)", "%(day)s"),
        in_window="0" if days_counted else in_window,
    )
    params = {
        "at": connection.ops.adapt_datetimefield_value(check_in.performed_at),
        "day": connection.ops.adapt_datefield_value(check_in.local_date),
        "pain": check_in.pain_before,
        "patient": check_in.patient_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counted = cursor.rowcount
    if not counted:  # a patient the ledger has no row of yet
        ledger_patients_refresh([check_in.patient_id], check_ins=True)
        ledger_patient_count(check_in, days_counted=True)


def ledger_patients_refresh(patient_ids, *, check_ins: bool = False) -> None:
    """Works out again the rows of these patients from their days, inside the transaction of
    the write that moved them (after them: the order every writer keeps,
    ClinicRowVersionManager.outdate); `check_ins`: their check-ins changed too, so their
    last check-in is read again. (A check-in not stored yet is then counted already: its
    instant is the row's, which only a change of the stored check-ins reads again.)"""
    ids = sorted(set(patient_ids))
    if not ids:
        return
    d = DIALECTS[connection.vendor]
    fill = {
        "patients": LedgerPatient._meta.get_field("patient").related_model._meta.db_table,
        "day": _DAY,
        "ids": ", ".join(["%s"] * len(ids)),
        "first_start": FIRST_START.format(true=d["true"]),
        "prescriptions": PRESCRIPTIONS,
        "last_day": LAST_DAY,
        "window_end": d["plus_days"].format("f.first_start", PAIN_WINDOW_DAYS - 1),
        "last": f", {LAST_CHECK_IN} AS last_check_in" if check_ins else "",
        "set_last": ", last_check_in = v.last_check_in" if check_ins else "",
    }
    with connection.cursor() as cursor:
        cursor.execute(HOLD.format(**fill), ids)
        cursor.execute(UPDATE.format(**fill), ids)
