from datetime import date

import pytest

from prescriptions.models import StatusChange
from tests.factories import CheckInFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


def test_it_gives_a_prescription_two_slots_and_an_opening_status(patient_a):
    prescription = PrescriptionFactory(patient=patient_a)

    assert sorted(prescription.slots.values_list("kind", flat=True)) == ["bedtime", "morning"]
    assert StatusChange.objects.get(prescription=prescription).status == "active"
    assert CheckInFactory(prescription=prescription).patient == patient_a


def test_it_schedules_the_slots_so_the_tick_finds_them(patient_a):
    prescription = PrescriptionFactory(patient=patient_a)

    assert None not in prescription.slots.values_list("next_fire_at", flat=True)


def test_it_records_the_pause_of_a_paused_prescription(patient_a):
    prescription = PrescriptionFactory(patient=patient_a, paused=True)

    history = list(prescription.status_changes.values_list("status", flat=True))
    assert (prescription.status, history) == ("paused", ["active", "paused"])
    assert set(prescription.slots.values_list("next_fire_at", flat=True)) == {None}


def test_it_starts_a_scheduled_prescription_later(patient_a):
    prescription = PrescriptionFactory(patient=patient_a, scheduled=True)

    assert prescription.start_date > date.today()
