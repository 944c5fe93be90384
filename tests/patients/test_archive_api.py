"""A clinician archives a patient who leaves the clinic's care; nothing is deleted."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail

from clinic.models import AuditEntry
from patients.models import Patient
from prescriptions.alerts import evaluate_alerts
from prescriptions.models import Alert, Reminder
from prescriptions.reminders.deliver import reminders_deliver
from tests.conftest import client_for
from tests.factories import CheckInFactory
from tests.prescriptions.reminders_support import scheduled_prescription, tick

pytestmark = pytest.mark.django_db

MORNING = datetime(2024, 6, 3, 11, 0, tzinfo=UTC)  # 07:00 in New York
CREATED = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)


def in_care_of(clinician):
    with time_machine.travel(CREATED, tick=False):
        prescription = scheduled_prescription()
    Patient.objects.filter(id=prescription.patient_id).update(clinic=clinician.clinic)
    prescription.patient.refresh_from_db()
    return prescription


def archive(user, patient, action="archive"):
    return client_for(user).post(f"/api/v1/patients/{patient.id}/{action}/")


def test_a_clinician_archives_a_patient(clinician_a, patient_a):
    response = archive(clinician_a, patient_a)

    assert response.status_code == 200
    assert response.json()["archived_at"] is not None
    patient_a.refresh_from_db()
    assert patient_a.archived_by == clinician_a
    assert AuditEntry.objects.get(patient_id=patient_a.id).action == "archive"


def test_only_a_clinician_of_the_clinic_archives(staff_a, clinician_b, patient_a):
    assert archive(staff_a, patient_a).status_code == 403
    assert archive(patient_a.user, patient_a).status_code == 403
    assert archive(clinician_b, patient_a).status_code == 404
    patient_a.refresh_from_db()
    assert patient_a.archived_at is None


def test_archiving_twice_or_restoring_a_patient_in_care_is_a_400(clinician_a, patient_a):
    assert archive(clinician_a, patient_a, "restore").status_code == 400
    archive(clinician_a, patient_a)
    response = archive(clinician_a, patient_a)
    assert response.status_code == 400
    assert "already archived" in response.json()["detail"]


def test_the_clinic_lists_leave_archived_patients_out_unless_asked(
    clinician_a, staff_a, patient_a, other_patient
):
    archive(clinician_a, patient_a)
    staff = client_for(staff_a)

    def ids(url, **query):
        body = staff.get(url, query).json()
        return [row.get("patient", row.get("id")) for row in body["results"]]

    assert ids("/api/v1/patients/") == [other_patient.id]
    assert ids("/api/v1/patients/", archived="true") == [patient_a.id]
    assert ids("/api/v1/adherence/") == [other_patient.id]
    assert ids("/api/v1/adherence/", archived="true") == [patient_a.id]


def test_a_bad_archived_filter_is_a_400_naming_it(staff_a):
    response = client_for(staff_a).get("/api/v1/patients/", {"archived": "maybe"})
    assert response.status_code == 400
    assert "archived" in response.json()


def test_everything_stays_readable(clinician_a, staff_a, patient_a):
    checkin = CheckInFactory(prescription=scheduled_prescription(patient_a))
    archive(clinician_a, patient_a)
    staff = client_for(staff_a)

    assert staff.get(f"/api/v1/patients/{patient_a.id}/").status_code == 200
    assert staff.get(f"/api/v1/check-ins/{checkin.id}/").status_code == 200
    assert staff.get(f"/api/v1/patients/{patient_a.id}/adherence/").status_code == 200
    # The patient still signs in, reads and downloads their own data.
    own = client_for(patient_a.user)
    assert own.get("/api/v1/patients/").json()["count"] == 1
    assert own.get("/api/v1/me/export/").status_code == 200


def test_an_archived_patient_is_not_reminded(clinician_a):
    prescription = in_care_of(clinician_a)
    archive(clinician_a, prescription.patient)

    with time_machine.travel(MORNING, tick=False):
        tick()

    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.reason) == (
        "skipped",
        "the patient is archived (no longer in the clinic's care)",
    )
    assert mail.outbox == []


def test_a_reminder_queued_before_the_archive_is_not_sent(clinician_a):
    prescription = in_care_of(clinician_a)
    reminder = Reminder.objects.create(
        prescription=prescription, slot="morning", local_date=MORNING.date(), fire_at=MORNING
    )
    archive(clinician_a, prescription.patient)

    with time_machine.travel(MORNING, tick=False):
        reminders_deliver(reminder_ids=[reminder.id])

    reminder.refresh_from_db()
    assert reminder.status == "skipped"
    assert mail.outbox == []


def test_a_restored_patient_is_reminded_again(clinician_a):
    prescription = in_care_of(clinician_a)
    archive(clinician_a, prescription.patient)
    assert archive(clinician_a, prescription.patient, "restore").status_code == 200

    with time_machine.travel(MORNING, tick=False):
        tick()

    assert Reminder.objects.get().status == "sent"


def test_an_archived_patient_raises_no_alerts(clinician_a):
    prescription = in_care_of(clinician_a)
    archive(clinician_a, prescription.patient)

    # Weeks without a check-in would raise no_check_in and low_adherence for a patient in care.
    with time_machine.travel(datetime(2024, 6, 20, 12, tzinfo=UTC), tick=False):
        evaluate_alerts()

    assert not Alert.objects.exists()
