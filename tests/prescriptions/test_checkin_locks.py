"""Writers on one prescription take turns on its row alone: other patients' check-ins and
changes never wait for it (every prescription shares the protocol's row)."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection, transaction

from patients.models import Patient
from prescriptions.api.serializers import CheckInWriteSerializer
from prescriptions.checkins import checkin_record
from prescriptions.models import CheckIn, Prescription
from prescriptions.services import prescription_lock, prescription_status_change
from tests.factories import PatientFactory, PrescriptionFactory


def in_another_connection(work) -> list[Exception]:
    """Runs `work` in a transaction of its own that gives up after 3 s of waiting for a lock."""
    failures = []

    def run():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                work()
        except Exception as error:
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return failures


@pytest.mark.django_db(transaction=True)
def test_it_lets_other_patients_check_in_and_be_paused_while_a_prescription_is_locked(
    clinic_a,
):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has no row locks")
    locked = PrescriptionFactory(patient=PatientFactory(clinic=clinic_a))
    other = PrescriptionFactory(patient=PatientFactory(clinic=clinic_a))

    with transaction.atomic():
        prescription_lock(locked)  # e.g. a clinician changing it, or its patient checking in
        checked_in = in_another_connection(
            lambda: checkin_record(
                prescription=other, slot="other", performed_at=datetime.now(UTC), pain_before=2
            )
        )
        paused = in_another_connection(
            lambda: prescription_status_change(prescription=other, to="paused")
        )

    assert checked_in == []
    assert paused == []
    assert CheckIn.objects.filter(prescription=other).count() == 1
    assert Prescription.objects.get(id=other.id).status == "paused"


@pytest.mark.django_db(transaction=True)
def test_it_locks_the_prescriptions_row_alone_as_the_check_in_post_validates_it(clinic_a):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has no row locks")
    rx = PrescriptionFactory(patient=PatientFactory(clinic=clinic_a))
    body = {
        "prescription": rx.id,
        "slot": "other",
        "performed_at": datetime.now(UTC).isoformat(),
        "pain_before": 2,
    }

    with transaction.atomic():
        serializer = CheckInWriteSerializer(data=body, patient_user=rx.patient.user)
        assert serializer.is_valid(), serializer.errors
        assert serializer.validated_data["prescription"].patient == rx.patient
        prescription_taken = in_another_connection(
            lambda: Prescription.objects.select_for_update(nowait=True).get(id=rx.id)
        )
        patient_taken = in_another_connection(
            lambda: Patient.objects.select_for_update(nowait=True).get(id=rx.patient_id)
        )

    assert [type(error) for error in prescription_taken] == [OperationalError]
    assert patient_taken == []
