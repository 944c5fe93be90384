"""The check-ins' side of the ledger: each check-in counted on its day as it is recorded,
and every day's counts worked out again from the check-ins themselves when the ledger
rebuilds a prescription."""

from django.db import connection
from django.db.models import Count, Q, Sum

from prescriptions.adherence.ledger.patients import ledger_patient_count
from prescriptions.models import PAIN_ROSE, AdherenceDay, CheckIn


def _added_counts(check_in: CheckIn) -> dict[str, int]:
    """What a check-in adds to its day's counts (COUNT_FIELDS)."""
    return {
        "check_ins": 1,
        "morning_check_ins": int(check_in.slot == "morning"),
        "bedtime_check_ins": int(check_in.slot == "bedtime"),
        "night_check_ins": int(check_in.slot == "night"),
        "pain_before_sum": check_in.pain_before,
        "pain_rises": int(check_in.pain_rose),
    }


def checkin_count(check_in: CheckIn) -> None:
    """Counts a check-in on its day before it is stored, inside its transaction, which
    holds the prescription's row locked (so no racing insert of the same day), then the
    patient's ledger row. Its event then outdates the patient's stored clinic row."""
    counts = _added_counts(check_in)
    params = [
        *(counts[name] for name in COUNT_FIELDS),
        check_in.prescription_id,
        connection.ops.adapt_datefield_value(check_in.local_date),
    ]
    with connection.cursor() as cursor:
        cursor.execute(COUNT_CHECK_IN, params)
        counted = cursor.rowcount
    if not counted:  # a date the ledger never wrote (before the start, say)
        AdherenceDay.objects.create(
            prescription_id=check_in.prescription_id,
            patient_id=check_in.patient_id,
            local_date=check_in.local_date,
            **counts,
        )
    ledger_patient_count(check_in)


def check_in_counts(prescription_ids) -> list[AdherenceDay]:
    """The check-in counts of these prescriptions' days, from the check-ins themselves."""
    rows = (
        CheckIn.objects.filter(prescription_id__in=list(prescription_ids))
        .values("prescription_id", "patient_id", "local_date")
        .annotate(
            n=Count("id"),
            morning=Count("id", filter=Q(slot="morning")),
            bedtime=Count("id", filter=Q(slot="bedtime")),
            night=Count("id", filter=Q(slot="night")),
            pain=Sum("pain_before"),
            rises=Count("id", filter=PAIN_ROSE),
        )
        .order_by()
    )
    return [
        AdherenceDay(
            prescription_id=r["prescription_id"],
            patient_id=r["patient_id"],
            local_date=r["local_date"],
            check_ins=r["n"],
            morning_check_ins=r["morning"],
            bedtime_check_ins=r["bedtime"],
            night_check_ins=r["night"],
            pain_before_sum=r["pain"],
            pain_rises=r["rises"],
        )
        for r in rows
    ]


COUNT_FIELDS = [
    "check_ins",
    "morning_check_ins",
    "bedtime_check_ins",
    "night_check_ins",
    "pain_before_sum",
    "pain_rises",
]
# checkin_count's UPDATE, written once: built by the ORM at every check-in, its F()
# expressions cost several times the CPU the database spent on it (bench/RESULTS.md).
COUNT_CHECK_IN = (
    f"UPDATE {AdherenceDay._meta.db_table} "
    f"SET {', '.join(f'{name} = {name} + %s' for name in COUNT_FIELDS)} "
    "WHERE prescription_id = %s AND local_date = %s"
)
