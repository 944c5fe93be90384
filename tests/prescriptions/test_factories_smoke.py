import pytest

from prescriptions.models import StatusChange
from tests.factories import CheckInFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


def test_it_gives_a_prescription_two_slots_and_an_opening_status(patient_a):
    prescription = PrescriptionFactory(patient=patient_a)

    assert sorted(prescription.slots.values_list("kind", flat=True)) == ["bedtime", "morning"]
    assert StatusChange.objects.get(prescription=prescription).status == "active"
    assert CheckInFactory(prescription=prescription).patient == patient_a
