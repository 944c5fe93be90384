"""Who reaches which patients: the one rule (clinic.permissions.in_reach) for the API, the
staff pages and the exports alike."""

from django.db.models import QuerySet

from clinic.permissions import in_reach
from patients.models import Patient


def patients_in_reach(user) -> QuerySet[Patient]:
    """The clinic team's patients of their clinic, a patient themselves, anyone else none."""
    return in_reach(Patient.objects.all(), user, via="")
