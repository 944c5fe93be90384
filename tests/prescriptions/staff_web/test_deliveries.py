"""Delivery problems: the clinic's reminders that failed, why, and whom to check with."""

from datetime import UTC, date, datetime, timedelta

import pytest

from prescriptions.models import Reminder
from tests.conftest import signed_in
from tests.factories import PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


def reminder(rx, days_ago: int, status: str, reason: str = "", channel: str = "sms"):
    fire_at = datetime.now(UTC) - timedelta(days=days_ago)
    return Reminder.objects.create(
        prescription=rx,
        slot="morning",
        local_date=fire_at.date(),
        fire_at=fire_at,
        channel=channel,
        status=status,
        reason=reason,
    )


def test_it_lists_the_clinics_failed_reminders_with_their_reason(staff_a, patient_a, patient_b):
    patient_a.phone = "+1 555 010 0199"
    patient_a.save()
    rx = PrescriptionFactory(patient=patient_a)
    reminder(rx, 1, "failed", "The SMS provider refused the number")
    reminder(rx, 2, "sent")
    reminder(rx, 45, "failed", "Too old to show")
    reminder(PrescriptionFactory(patient=patient_b), 1, "failed", "Another clinic's problem")

    page = signed_in(staff_a).get("/staff/deliveries/").content.decode()

    assert "The SMS provider refused the number" in page
    assert "+1 555 010 0199" in page
    assert f'href="/staff/patients/{patient_a.id}/"' in page
    assert page.count('<tr class="failed">') == 1
    assert "Another clinic" not in page and "Too old" not in page


def test_it_says_so_when_every_reminder_went_out(clinician_a, patient_a):
    reminder(PrescriptionFactory(patient=patient_a), 1, "sent")

    page = signed_in(clinician_a).get("/staff/deliveries/").content.decode()

    assert "Every reminder of the last 30 days was delivered" in page


def test_it_keeps_a_patient_out(patient_a):
    assert signed_in(patient_a.user).get("/staff/deliveries/").status_code == 302


@pytest.mark.parametrize("patients", [2, 20])
def test_it_reads_a_page_in_the_same_queries_however_many_failed(
    django_assert_num_queries, clinic_a, clinician_a, patients
):
    for _ in range(patients):
        reminder(
            PrescriptionFactory(
                patient=PatientFactory(clinic=clinic_a),
                clinician=clinician_a,
                start_date=date.today(),
            ),
            1,
            "failed",
            "Webhook answered 500",
            "webhook",
        )
    client = signed_in(clinician_a)

    # Session, user, clinic (3); count and page with patients and their settings (2); the
    # audit entry (1).
    with django_assert_num_queries(6):
        response = client.get("/staff/deliveries/")

    assert response.content.decode().count("Webhook answered 500") == patients
