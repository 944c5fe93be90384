from datetime import timedelta

import pytest
from django.utils import timezone

from prescriptions.models import Alert
from tests.conftest import client_for
from tests.factories import PrescriptionFactory


@pytest.mark.celery_worker
def test_it_emails_the_clinician_from_the_worker_when_a_patient_reports_a_red_flag(
    live_worker, patient_a, clinician_a
):
    prescription = PrescriptionFactory(patient=patient_a, clinician=clinician_a)
    performed_at = timezone.now() - timedelta(minutes=10)

    response = client_for(patient_a.user).post(
        "/api/v1/check-ins/",
        {
            "prescription": prescription.id,
            "slot": "bedtime",
            "performed_at": performed_at.isoformat(),
            "pain_before": 7,
            "red_flags": ["leg_weakness"],
        },
    )

    assert response.status_code == 201, response.content
    alert = Alert.objects.get(patient=patient_a, kind="red_flag")
    [mail] = live_worker.wait_for(live_worker.mails)
    assert f"To: {clinician_a.email}" in mail
    assert f"alert {alert.id}" in mail
    assert "notify_red_flag" in live_worker.log()
