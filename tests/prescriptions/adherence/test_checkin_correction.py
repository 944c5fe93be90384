"""A patient puts right a check-in made by mistake (checkins.checkin_correct and
checkin_withdraw): within 24 hours only, recorded whole, the ledger, the adherence report
and the stored clinic row follow, and red flags stay for the clinician."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from prescriptions import adherence, checkins
from prescriptions.adherence import clinic_store, ledger
from prescriptions.models import (
    AdherenceDay,
    Alert,
    CheckIn,
    CheckInCorrection,
    ClinicRow,
    Prescription,
)
from tests.conftest import client_for
from tests.factories import CheckInFactory, PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)  # 08:00 in New York; slots at 07:00 and 22:00
TODAY = date(2026, 5, 10)


@pytest.fixture
def rx(patient_a):
    """Prescribed on 1 May; every session done up to yesterday's bedtime."""
    rx = PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 1))
    for d in range(1, 10):
        for slot, hour in (("morning", 11), ("bedtime", 2)):
            day = d + 1 if slot == "bedtime" else d  # 22:00 New York is 02:00 UTC next day
            CheckInFactory(
                prescription=rx, slot=slot, performed_at=datetime(2026, 5, day, hour, tzinfo=UTC)
            )
    return rx


def record(rx, **session):
    """A check-in made now, through the service the API and the pages use."""
    return checkins.checkin_record(
        prescription=rx, performed_at=datetime.now(UTC), **{"pain_before": 5, **session}
    )


def report(patient):
    return adherence.adherence_report(patient=patient, start=date(2026, 5, 1), end=TODAY)


def ledger_rows(rx):
    return list(
        AdherenceDay.objects.filter(prescription=rx)
        .order_by("local_date")
        .values_list("local_date", "check_ins", "morning_check_ins", "night_check_ins")
    )


def rebuilt_rows(rx):
    ledger.ledger_rebuild(prescription_ids=[rx.id])
    return ledger_rows(rx)


def test_it_corrects_the_session_and_the_report_follows(rx, patient_a):
    mistaken = record(rx, slot="other", pain_after=3)
    before = report(patient_a)
    assert (before["completed_sessions"], before["extra_sessions"]) == (18, 1)

    corrected = checkins.checkin_correct(
        checkin=mistaken,
        by=patient_a.user,
        changes={"slot": "morning", "pain_before": 4, "duration_minutes": 6, "notes": "Stiff"},
    )

    after = report(patient_a)
    assert (after["completed_sessions"], after["extra_sessions"]) == (19, 0)
    assert after["expected_sessions"] == before["expected_sessions"]
    assert after["by_day"][-1]["pain_before_mean"] == 4
    stored = CheckIn.objects.get(id=mistaken.id)
    assert (stored.slot, stored.pain_before, stored.pain_after) == ("morning", 4, 3)
    assert (stored.duration_minutes, stored.notes, stored.local_date) == (6, "Stiff", TODAY)
    assert corrected.slot == "morning"
    kept = ledger_rows(rx)
    assert kept == rebuilt_rows(rx)  # what was kept is what the sources give


def test_it_records_what_the_check_in_was_and_became(rx, patient_a):
    mistaken = record(rx, slot="other", pain_after=3)

    checkins.checkin_correct(checkin=mistaken, by=patient_a.user, changes={"pain_after": 2})

    correction = CheckInCorrection.objects.get()
    assert (correction.check_in_id, correction.kind, correction.by) == (
        mistaken.id,
        "corrected",
        patient_a.user,
    )
    assert (correction.before["pain_after"], correction.after["pain_after"]) == (3, 2)
    assert correction.at == NOW


def test_it_records_nothing_when_nothing_changes(rx, patient_a):
    mistaken = record(rx, slot="morning", pain_after=3)

    checkins.checkin_correct(checkin=mistaken, by=patient_a.user, changes={"pain_after": 3})

    assert not CheckInCorrection.objects.exists()


def test_it_withdraws_a_check_in_and_the_session_reads_missed(rx, patient_a):
    before = report(patient_a)
    mistaken = record(rx, slot="morning")
    assert report(patient_a)["completed_sessions"] == before["completed_sessions"] + 1

    checkins.checkin_withdraw(checkin=mistaken, by=patient_a.user)

    assert not CheckIn.objects.filter(id=mistaken.id).exists()
    assert report(patient_a) == before
    correction = CheckInCorrection.objects.get()
    assert (correction.kind, correction.after) == ("withdrawn", None)
    assert correction.before["slot"] == "morning"
    assert ledger_rows(rx) == rebuilt_rows(rx)


def test_it_refuses_after_24_hours(rx, patient_a, frozen_clock):
    frozen_clock.move_to(NOW - timedelta(hours=24, minutes=1))
    mistaken = record(rx, slot="other")
    frozen_clock.move_to(NOW)
    kept = ledger_rows(rx)

    with pytest.raises(ValidationError, match="within 24 hours"):
        checkins.checkin_correct(checkin=mistaken, by=patient_a.user, changes={"slot": "morning"})
    with pytest.raises(ValidationError, match="within 24 hours"):
        checkins.checkin_withdraw(checkin=mistaken, by=patient_a.user)

    assert CheckIn.objects.get(id=mistaken.id).slot == "other"
    assert not CheckInCorrection.objects.exists()
    assert ledger_rows(rx) == kept


def test_it_still_corrects_at_24_hours(rx, patient_a, frozen_clock):
    frozen_clock.move_to(NOW - timedelta(hours=24))
    mistaken = record(rx, slot="other")
    frozen_clock.move_to(NOW)

    checkins.checkin_correct(checkin=mistaken, by=patient_a.user, changes={"pain_before": 2})

    assert CheckIn.objects.get(id=mistaken.id).pain_before == 2


def test_a_red_flag_stays_for_the_clinician(rx, patient_a):
    flagged = record(rx, slot="morning", red_flags=["leg_weakness"])

    with pytest.raises(ValidationError, match="warning sign"):
        checkins.checkin_withdraw(checkin=flagged, by=patient_a.user)
    with pytest.raises(ValidationError):
        checkins.checkin_correct(checkin=flagged, by=patient_a.user, changes={"red_flags": []})
    checkins.checkin_correct(checkin=flagged, by=patient_a.user, changes={"pain_before": 3})

    kept = CheckIn.objects.get(id=flagged.id)
    assert (kept.red_flags, kept.pain_before) == (["leg_weakness"], 3)
    assert Alert.objects.get(kind="red_flag").acknowledged_at is None
    rx.refresh_from_db()
    assert rx.status == Prescription.Status.PAUSED


def test_it_refuses_a_check_in_withdrawn_already(rx, patient_a):
    mistaken = record(rx, slot="other")
    checkins.checkin_withdraw(checkin=mistaken, by=patient_a.user)

    with pytest.raises(ValidationError, match="withdrawn already"):
        checkins.checkin_correct(checkin=mistaken, by=patient_a.user, changes={"pain_before": 1})


def test_a_late_bedtime_moved_to_night_counts_on_the_date_it_was_done(rx, patient_a, frozen_clock):
    frozen_clock.move_to(datetime(2026, 5, 10, 4, 30, tzinfo=UTC))  # 00:30 in New York
    late = record(rx, slot="bedtime")
    assert late.local_date == date(2026, 5, 9)
    frozen_clock.move_to(NOW)

    checkins.checkin_correct(checkin=late, by=patient_a.user, changes={"slot": "night"})

    assert CheckIn.objects.get(id=late.id).local_date == date(2026, 5, 10)
    assert ledger_rows(rx) == rebuilt_rows(rx)


def test_a_correction_reads_the_date_in_the_zone_the_check_in_was_done_in(
    rx, patient_a, frozen_clock, django_capture_on_commit_callbacks
):
    frozen_clock.move_to(datetime(2026, 5, 10, 1, tzinfo=UTC))  # 21:00 on 9 May in New York
    evening = record(rx, slot="other")
    frozen_clock.move_to(NOW)
    with django_capture_on_commit_callbacks(execute=True):
        moved = client_for(patient_a.user).patch("/api/v1/me/", {"timezone": "Asia/Tokyo"})
    assert moved.status_code == 200

    checkins.checkin_correct(checkin=evening, by=patient_a.user, changes={"slot": "night"})

    # In Tokyo it was 10:00 on 10 May; the patient did it on the evening of the 9th.
    assert CheckIn.objects.get(id=evening.id).local_date == date(2026, 5, 9)
    assert ledger_rows(rx) == rebuilt_rows(rx)


def test_the_stored_clinic_row_follows(rx, patient_a, clinic_a, clinician_a):
    mistaken = record(rx, slot="other")
    clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id)
    stored = ClinicRow.objects.get(patient=patient_a)
    assert stored.extra_sessions == 1

    checkins.checkin_correct(checkin=mistaken, by=patient_a.user, changes={"slot": "morning"})

    row = next(
        r
        for r in client_for(clinician_a).get("/api/v1/adherence/").json()["results"]
        if r["patient"] == patient_a.id
    )
    assert (row["extra_sessions"], row["completed_sessions"]) == (0, 19)
    assert clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id) == 1  # outdated, stored again
    assert ClinicRow.objects.get(patient=patient_a).extra_sessions == 0
