"""A red-flag alert says in words which signs were reported, and nothing of a pause that a
resume would make untrue."""

from datetime import UTC, datetime, timedelta

import pytest

from prescriptions import checkins, services
from prescriptions.models import Alert
from tests.conftest import client_for
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db


def red_flag(rx, *flags):
    return checkins.checkin_record(
        prescription=rx,
        slot="other",
        performed_at=datetime.now(UTC) - timedelta(minutes=5),
        pain_before=6,
        red_flags=list(flags),
    )


def test_it_names_the_signs_in_words_in_the_details(clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    red_flag(rx, "leg_weakness", "fever")

    (alert,) = client_for(clinician_a).get("/api/v1/alerts/").data["results"]

    assert alert["details"]["signs"] == ["Fever", "New or worsening leg weakness"]
    assert alert["details"]["message"] == (
        "Warning signs reported in a check-in: Fever; New or worsening leg weakness."
    )
    assert "paused" not in alert["details"]["message"]


def test_it_adds_a_later_sign_to_the_open_alert_in_words(patient_a, clinician_a):
    rx = PrescriptionFactory(patient=patient_a)
    red_flag(rx, "fever")
    services.prescription_status_change(prescription=rx, to="active", by=clinician_a)
    red_flag(rx, "after_fall")

    alert = Alert.objects.get()

    assert alert.details["signs"] == ["Pain began after a fall or injury", "Fever"]
    assert alert.details["message"].startswith("Warning signs reported")
