"""Many patients with prescriptions and check-ins, made with bulk_create (for query counts),
by the builder of `manage.py seed_bulk`."""

from datetime import date

from prescriptions.adherence import ledger_rebuild
from prescriptions.management.commands.seed_bulk import seed
from prescriptions.models import Prescription


def bulk_clinic(clinic, clinician, n: int, *, start: date, days: int, tz_name: str = "UTC"):
    """`n` patients, each on a prescription from `start` with check-ins for `days` days
    (see seed_bulk), their ledger written as the services and the tick would have left it."""
    patients = seed(clinic, clinician, n, start=start, days=days, zones=[tz_name])
    ledger_rebuild(
        prescription_ids=Prescription.objects.filter(patient__in=patients).values_list(
            "id", flat=True
        )
    )
    return patients
