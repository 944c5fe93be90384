from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from prescriptions import services
from prescriptions.models import Prescription, StatusChange
from tests.conftest import client_for
from tests.factories import PatientFactory, PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = "2026-03-10T15:00:00Z"  # 11:00 in New York (EDT)


@pytest.fixture
def prescription(patient_a, clinician_a):
    return PrescriptionFactory(
        patient=patient_a, clinician=clinician_a, start_date=date(2026, 3, 3)
    )


def post(user, prescription, change, **body):
    return client_for(user).post(f"/api/v1/prescriptions/{prescription.id}/{change}/", body)


def history(prescription):
    return list(
        StatusChange.objects.filter(prescription=prescription).values_list("status", "effective_at")
    )


def test_it_pauses_now_by_default(clinician_a, prescription):
    response = post(clinician_a, prescription, "pause", reason="Flare-up after a fall")

    assert response.status_code == 200
    assert response.data["status"] == "paused"
    last = prescription.status_changes.last()
    assert (last.status, last.effective_at.isoformat()) == ("paused", "2026-03-10T15:00:00+00:00")
    assert (last.recorded_by, last.reason) == (clinician_a, "Flare-up after a fall")


def test_it_records_a_pause_that_already_happened(clinician_a, prescription):
    response = post(clinician_a, prescription, "pause", effective="2026-03-08T21:00:00-04:00")

    assert response.status_code == 200
    assert history(prescription)[-1][1].isoformat() == "2026-03-09T01:00:00+00:00"
    assert response.data["history"][-1]["status"] == "paused"


def test_it_resumes_and_ends(clinician_a, prescription):
    post(clinician_a, prescription, "pause", effective="2026-03-05T12:00:00Z")

    assert post(clinician_a, prescription, "resume").data["status"] == "active"
    assert post(clinician_a, prescription, "end").data["status"] == "ended"
    assert [status for status, _ in history(prescription)] == [
        "active",
        "paused",
        "active",
        "ended",
    ]


def test_it_ends_a_paused_prescription(clinician_a, prescription):
    post(clinician_a, prescription, "pause")

    assert post(clinician_a, prescription, "end").data["status"] == "ended"


@pytest.mark.parametrize(
    ("effective", "why"),
    [
        ("2026-03-10T15:01:00Z", "future"),
        ("2026-03-03T03:59:00Z", "before 00:00 local of the start date"),
        ("2026-03-10T11:00:00", "no offset"),
        ("yesterday", "not an instant"),
    ],
)
def test_it_refuses_a_bad_effective_instant(clinician_a, prescription, effective, why):
    response = post(clinician_a, prescription, "pause", effective=effective)

    assert response.status_code == 400, why
    assert "effective" in response.data
    assert len(history(prescription)) == 1


def test_it_accepts_the_very_start_of_the_prescription(clinician_a, prescription):
    # 00:00 on 3 March in New York (EST) is 05:00 UTC.
    response = post(clinician_a, prescription, "pause", effective="2026-03-03T05:00:00Z")

    assert response.status_code == 200


@pytest.mark.parametrize(("effective", "status"), [("03:59:59", 400), ("04:00:00", 200)])
def test_it_starts_a_prescription_at_the_first_instant_of_a_day_whose_midnight_is_skipped(
    clinician_a, clinic_a, effective, status
):
    # Santiago's clocks go from 00:00 straight to 01:00 on 6 September 2026: the day begins
    # at 01:00 -03, which is 04:00 UTC.
    patient = PatientFactory(clinic=clinic_a, timezone="America/Santiago")
    with time_machine.travel("2026-09-06T15:00:00Z", tick=False):
        rx = PrescriptionFactory(
            patient=patient, clinician=clinician_a, start_date=date(2026, 9, 6)
        )

        response = post(clinician_a, rx, "pause", effective=f"2026-09-06T{effective}Z")

    assert response.status_code == status


def test_it_refuses_an_instant_before_the_last_change(clinician_a, prescription):
    post(clinician_a, prescription, "pause", effective="2026-03-08T12:00:00Z")

    response = post(clinician_a, prescription, "resume", effective="2026-03-07T12:00:00Z")

    assert response.status_code == 400
    assert "effective" in response.data
    assert prescription.status_changes.count() == 2


def test_it_refuses_to_pause_a_paused_prescription(clinician_a, prescription):
    post(clinician_a, prescription, "pause")

    response = post(clinician_a, prescription, "pause")

    assert response.status_code == 400
    assert "paused" in response.data["detail"]


def test_it_refuses_to_resume_an_active_prescription(clinician_a, prescription):
    assert post(clinician_a, prescription, "resume").status_code == 400


@pytest.mark.parametrize("change", ["pause", "resume", "end"])
def test_it_refuses_any_change_to_an_ended_prescription(clinician_a, prescription, change):
    post(clinician_a, prescription, "end")

    response = post(clinician_a, prescription, change)

    assert response.status_code == 400
    assert "ended" in response.data["detail"]
    assert prescription.status_changes.count() == 2


@pytest.mark.parametrize("change", ["pause", "resume", "end"])
def test_it_refuses_any_change_to_a_prescription_past_its_end_date(clinician_a, patient_a, change):
    # Its last day was 8 March: on 10 March it reads ended, though no one ended it.
    rx = PrescriptionFactory(
        patient=patient_a, start_date=date(2026, 3, 3), end_date=date(2026, 3, 8)
    )

    response = post(clinician_a, rx, change)

    assert response.status_code == 400
    assert "ended" in response.data["detail"]
    assert rx.status_changes.count() == 1


def test_it_refuses_unknown_fields(clinician_a, prescription):
    response = post(clinician_a, prescription, "pause", status="ended")

    assert response.status_code == 400
    assert "status" in response.data


@pytest.mark.parametrize("change", ["pause", "resume", "end"])
def test_it_lets_only_clinicians_change_the_status(staff_a, patient_a, prescription, change):
    assert post(staff_a, prescription, change).status_code == 403
    assert post(patient_a.user, prescription, change).status_code == 403


def test_it_hides_another_clinics_prescription(clinician_b, prescription):
    assert post(clinician_b, prescription, "pause").status_code == 404


def test_the_system_can_pause_without_a_user(prescription):
    services.prescription_status_change(
        to=Prescription.Status.PAUSED,
        prescription=prescription,
        effective=prescription.status_changes.get().effective_at + timedelta(days=2),
        by=None,
        reason="red flag reported",
    )

    prescription.refresh_from_db()
    assert prescription.status == "paused"
    assert prescription.status_changes.last().recorded_by is None


def test_a_refused_change_leaves_nothing_behind(prescription, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("scheduler down")

    monkeypatch.setattr(services, "slots_reschedule", broken)

    with pytest.raises(RuntimeError):
        services.prescription_status_change(
            to=Prescription.Status.PAUSED, prescription=prescription
        )

    prescription.refresh_from_db()
    assert prescription.status == "active"
    assert prescription.status_changes.count() == 1


def test_the_service_raises_a_plain_error_on_an_invalid_transition(prescription):
    with pytest.raises(ValidationError) as error:
        services.prescription_status_change(
            to=Prescription.Status.ACTIVE, prescription=prescription
        )

    assert not hasattr(error.value, "error_dict")


def test_it_calls_off_a_prescription_that_has_not_started(clinician_a, patient_a):
    upcoming = PrescriptionFactory(
        patient=patient_a, clinician=clinician_a, start_date=date(2026, 3, 16)
    )

    response = post(clinician_a, upcoming, "end")

    assert response.status_code == 200
    assert response.data["status"] == "ended"
    # Ended at 00:00 in New York on its start date: no day of it is ever active.
    assert history(upcoming)[-1][1].isoformat() == "2026-03-16T04:00:00+00:00"


def test_it_refuses_to_pause_a_prescription_that_has_not_started(clinician_a, patient_a):
    upcoming = PrescriptionFactory(
        patient=patient_a, clinician=clinician_a, start_date=date(2026, 3, 16)
    )

    response = post(clinician_a, upcoming, "pause")

    assert response.status_code == 400
    assert "effective" in response.data
