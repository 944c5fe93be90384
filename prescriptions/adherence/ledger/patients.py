"""The ledger's row per patient (models.LedgerPatient): the start of their first prescription
that ran, the check-ins and pain of its first week, and their last check-in. Worked out
here, by the SQL below, after every write of their days or check-ins, in its transaction;
the clinic table's statement reads the row (docs/definitions.md, "Pain change")."""

from datetime import datetime

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
HOLD = f"""INSERT INTO {_ROW} (patient_id, baseline_check_ins, baseline_pain_sum)
SELECT id, 0, 0 FROM {{patients}} WHERE id IN ({{ids}}) ORDER BY id
ON CONFLICT (patient_id) DO UPDATE SET patient_id = excluded.patient_id"""

# The start of the patient's first prescription that had an active day.
FIRST_START = f"""(SELECT MIN(rx.start_date) FROM {Prescription._meta.db_table} rx
    WHERE rx.patient_id = p.id AND EXISTS (
        SELECT 1 FROM {_DAY} ran WHERE ran.prescription_id = rx.id AND ran.active = {{true}}))"""
LAST_CHECK_IN = f"""(SELECT MAX(c.performed_at) FROM {CheckIn._meta.db_table} c
    WHERE c.patient_id = f.id)"""
# The first week's days summed, read by the ledger's (patient, date) index.
FIGURES = f"""SELECT f.id, f.first_start, COALESCE(SUM(a.check_ins), 0) AS check_ins,
    COALESCE(SUM(a.pain_before_sum), 0) AS pain, {LAST_CHECK_IN} AS last_check_in
FROM (SELECT p.id, {FIRST_START} AS first_start FROM {{patients}} p WHERE p.id IN ({{ids}})) f
LEFT JOIN {_DAY} a ON a.patient_id = f.id
    AND a.local_date BETWEEN f.first_start AND {{window_end}}
GROUP BY f.id, f.first_start"""
UPDATE = f"""UPDATE {_ROW} SET first_start = v.first_start, baseline_check_ins = v.check_ins,
    baseline_pain_sum = v.pain, last_check_in = {{last_check_in}}
FROM ({FIGURES}) v WHERE {_ROW}.patient_id = v.id"""


def ledger_patients_refresh(patient_ids, *, checked_in_at: datetime | None = None) -> None:
    """Works out again the rows of these patients, inside the transaction of the write that
    moved their days or check-ins (after them: the order every writer keeps,
    ClinicRowVersionManager.outdate). `checked_in_at`: the instant of a check-in counted
    before it is stored (checkin_count), which the last check-in then takes into account."""
    ids = sorted(set(patient_ids))
    if not ids:
        return
    d = DIALECTS[connection.vendor]
    last_check_in, params = "v.last_check_in", ids
    if checked_in_at is not None:
        last_check_in = d["greatest"].format("COALESCE(v.last_check_in, %s)", "%s")
        # Its two parameters come first: SET comes before FROM.
        params = [*[connection.ops.adapt_datetimefield_value(checked_in_at)] * 2, *ids]
    fill = {
        "patients": LedgerPatient._meta.get_field("patient").related_model._meta.db_table,
        "ids": ", ".join(["%s"] * len(ids)),
        "true": d["true"],
        "window_end": d["plus_days"].format("f.first_start", PAIN_WINDOW_DAYS - 1),
        "last_check_in": last_check_in,
    }
    with connection.cursor() as cursor:
        cursor.execute(HOLD.format(**fill), ids)
        cursor.execute(UPDATE.format(**fill), params)
