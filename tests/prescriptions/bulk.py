"""Many patients with prescriptions and check-ins, made with bulk_create (for query counts)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinic.models import User
from patients.models import Patient
from prescriptions.ledger import ledger_rebuild
from prescriptions.models import CheckIn, Prescription, PrescriptionSlot, Protocol, StatusChange
from prescriptions.schedule import checkin_local_date, local_instant, local_midnight

SLOTS = [("morning", time(7)), ("bedtime", time(22))]


def bulk_clinic(clinic, clinician, n: int, *, start: date, days: int, tz_name: str = "UTC"):
    """`n` patients, each on a prescription from `start` with check-ins for `days` days.

    Patient i skips the bedtime session on days where (i + day) % 3 == 0, and reports pain
    that drifts with i, so rows differ from each other.
    """
    tz = ZoneInfo(tz_name)
    prefix = f"bulk-{clinic.slug}"
    users = User.objects.bulk_create(
        User(username=f"{prefix}-{i}@example.test", role=User.Role.PATIENT, clinic=clinic)
        for i in range(n)
    )
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            user=user,
            first_name=f"First{i:04d}",
            last_name=f"Last{i:04d}",
            email=user.username,
            timezone=tz_name,
        )
        for i, user in enumerate(users)
    )
    protocol = Protocol.objects.get(slug="knee-rocks")
    prescriptions = Prescription.objects.bulk_create(
        Prescription(patient=p, protocol=protocol, clinician=clinician, start_date=start)
        for p in patients
    )
    PrescriptionSlot.objects.bulk_create(
        PrescriptionSlot(prescription=rx, kind=kind, time=at)
        for rx in prescriptions
        for kind, at in SLOTS
    )
    StatusChange.objects.bulk_create(
        StatusChange(prescription=rx, status="active", effective_at=local_midnight(start, tz))
        for rx in prescriptions
    )
    check_ins = []
    for i, rx in enumerate(prescriptions):
        for d in range(days):
            day = start + timedelta(days=d)
            for kind, at in SLOTS:
                if kind == "bedtime" and (i + d) % 3 == 0:
                    continue
                performed_at = local_instant(day, at, tz) + timedelta(minutes=5)
                pain = 3 + (i + d) % 5
                check_ins.append(_check_in(rx, kind, performed_at, pain, tz))
    CheckIn.objects.bulk_create(check_ins, batch_size=5000)
    # As the services and the tick would have left it.
    ledger_rebuild(prescription_ids=[rx.id for rx in prescriptions])
    return patients


def _check_in(rx, kind: str, performed_at: datetime, pain: int, tz) -> CheckIn:
    return CheckIn(
        prescription=rx,
        patient_id=rx.patient_id,
        slot=kind,
        performed_at=performed_at,
        local_date=checkin_local_date(performed_at, tz, kind),
        duration_minutes=5,
        pain_before=pain,
        pain_after=max(pain - 1, 0),
    )
