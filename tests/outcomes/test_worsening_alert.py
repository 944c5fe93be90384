"""The outcome_worsening alert: raised when a response is recorded worse than the
patient's baseline by at least the instrument's meaningful change, one open per patient,
and shown on the patient page, the clinic page and the weekly digest."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from prescriptions.alerts import alert_acknowledge
from prescriptions.models import Alert
from prescriptions.tasks import send_weekly_digests
from tests.conftest import signed_in
from tests.factories import CheckInFactory, PrescriptionFactory
from tests.outcomes.support import pgic, psfs, respond

pytestmark = pytest.mark.django_db

START = datetime(2024, 5, 6, 14, tzinfo=UTC)


def worsening(patient):
    return Alert.objects.filter(patient=patient, kind=Alert.Kind.OUTCOME_WORSENING)


def test_it_raises_the_alert_when_a_score_falls_by_the_meaningful_change(patient_a):
    respond(patient_a, "psfs", psfs(6, 6, 6), START)
    response = respond(patient_a, "psfs", psfs(4, 4, 4), START + timedelta(days=14))

    [alert] = worsening(patient_a)
    assert alert.acknowledged_at is None
    assert alert.details["questionnaire"] == "psfs"
    assert alert.details["response"] == response.id
    assert alert.details["change"] == "-2.0"
    assert "4.0, lower (worse) than 6.0 at the start" in alert.details["message"]


def test_it_keeps_one_open_alert_however_many_worse_scores(patient_a):
    respond(patient_a, "psfs", psfs(6, 6, 6), START)
    respond(patient_a, "psfs", psfs(3, 3, 3), START + timedelta(days=14))
    respond(patient_a, "psfs", psfs(2, 2, 2), START + timedelta(days=28))

    assert worsening(patient_a).count() == 1


def test_it_raises_a_new_one_for_a_worse_score_after_the_last_was_acknowledged(
    patient_a, clinician_a
):
    respond(patient_a, "psfs", psfs(6, 6, 6), START)
    respond(patient_a, "psfs", psfs(3, 3, 3), START + timedelta(days=14))
    alert_acknowledge(alert=worsening(patient_a).get(), by=clinician_a, note="Called her")
    respond(patient_a, "psfs", psfs(2, 2, 2), START + timedelta(days=28))

    assert worsening(patient_a).count() == 2
    assert worsening(patient_a).filter(acknowledged_at__isnull=True).count() == 1


@pytest.mark.parametrize("later", [(8, 8, 8), (5, 5, 5), (4, 5, 4)])
def test_it_raises_nothing_for_a_better_or_a_small_change(patient_a, later):
    respond(patient_a, "psfs", psfs(6, 6, 6), START)
    respond(patient_a, "psfs", psfs(*later), START + timedelta(days=14))

    assert not worsening(patient_a).exists()


def test_it_raises_nothing_for_the_baseline_itself(patient_a):
    respond(patient_a, "psfs", psfs(0, 0, 0), START)

    assert not worsening(patient_a).exists()


def test_it_raises_nothing_for_the_pgic_which_has_no_baseline(patient_a):
    respond(patient_a, "pgic", pgic(1), START)
    respond(patient_a, "pgic", pgic(7), START + timedelta(days=14))

    assert not worsening(patient_a).exists()


def test_it_ties_the_alert_to_the_patients_latest_prescription(patient_a):
    rx = PrescriptionFactory(patient=patient_a, start_date=date(2024, 5, 1))
    respond(patient_a, "psfs", psfs(6, 6, 6), START)
    respond(patient_a, "psfs", psfs(3, 3, 3), START + timedelta(days=14))

    assert worsening(patient_a).get().prescription_id == rx.id


def test_the_patient_page_and_the_clinic_page_show_it(patient_a, clinician_a):
    respond(patient_a, "psfs", psfs(6, 6, 6), START)
    respond(patient_a, "psfs", psfs(3, 3, 3), START + timedelta(days=14))
    client = signed_in(clinician_a)

    for path in (f"/staff/patients/{patient_a.id}/", "/staff/"):
        page = client.get(path).content.decode()
        assert "Outcome worse than at the start" in page
        assert "3.0, lower (worse) than 6.0 at the start" in page


def test_the_weekly_digest_names_the_patient(clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a, clinician=clinician_a, start_date=date(2024, 5, 1))
    CheckInFactory(
        prescription=rx, slot="morning", performed_at=datetime(2024, 6, 4, 11, 30, tzinfo=UTC)
    )
    respond(patient_a, "psfs", psfs(6, 6, 6), START)
    respond(patient_a, "psfs", psfs(3, 3, 3), START + timedelta(days=14))

    with time_machine.travel(datetime(2024, 6, 10, 11, tzinfo=UTC), tick=False):
        send_weekly_digests.delay()

    [message] = [m for m in mail.outbox if m.to == [clinician_a.email]]
    assert "Worse than at the start, by their questionnaires:" in message.body
    assert f"- {patient_a.last_name}, {patient_a.first_name}: " in message.body
    assert "open alerts: 1" in message.body
