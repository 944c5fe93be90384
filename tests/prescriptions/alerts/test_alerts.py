"""The periodic alert rules (docs/definitions.md, Alerts) at their thresholds, and their runs."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from prescriptions import tasks
from prescriptions.alerts import evaluate_alerts
from prescriptions.models import Alert, StatusChange
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory
from tests.prescriptions.bulk import bulk_clinic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

# Friday 10 April 2026, 12:00 UTC. Patients here live in UTC, so today is 10 April and the
# last complete days are 9, 8, 7 April …
NOW = datetime(2026, 4, 10, 12, tzinfo=UTC)


@pytest.fixture
def patient(clinic_a):
    return PatientFactory(clinic=clinic_a, timezone="UTC")


def prescribe(patient, start=date(2026, 3, 20), slots=(("morning", "07:00"),)):
    return PrescriptionFactory(patient=patient, start_date=start, slots=list(slots))


def session(rx, day, slot="morning", pain_before=4, pain_after=None, hour=7):
    return CheckInFactory(
        prescription=rx,
        slot=slot,
        performed_at=datetime(2026, day.month, day.day, hour, 10, tzinfo=UTC),
        pain_before=pain_before,
        pain_after=pain_before if pain_after is None else pain_after,
    )


def every_day(rx, first, last, **kwargs):
    day = first
    while day <= last:
        session(rx, day, **kwargs)
        day += timedelta(days=1)


def kinds(alerts):
    return sorted(a.kind for a in alerts)


# --- no_check_in --------------------------------------------------------------------------


def test_it_raises_no_check_in_after_three_active_days_without_one(patient):
    rx = prescribe(patient)
    every_day(rx, date(2026, 3, 20), date(2026, 4, 6))
    # 7, 8, 9 April: active, nothing. (Today, the 10th, is not complete and does not count.)

    raised = evaluate_alerts()

    alert = Alert.objects.get(patient=patient, kind="no_check_in")
    assert alert in raised
    assert alert.prescription == rx
    assert alert.details["from"] == "2026-04-07"
    assert alert.details["to"] == "2026-04-09"
    assert alert.details["message"]


def test_it_does_not_raise_no_check_in_after_two_days_without_one(patient):
    rx = prescribe(patient)
    every_day(rx, date(2026, 3, 20), date(2026, 4, 7))

    evaluate_alerts()

    assert not Alert.objects.filter(kind="no_check_in").exists()


def test_it_does_not_raise_no_check_in_when_one_of_the_days_was_paused(patient):
    rx = prescribe(patient)
    every_day(rx, date(2026, 3, 20), date(2026, 4, 5))
    # Paused for all of 7 April: the three days are not all active.
    StatusChange.objects.create(
        prescription=rx, status="paused", effective_at=datetime(2026, 4, 7, tzinfo=UTC)
    )
    StatusChange.objects.create(
        prescription=rx, status="active", effective_at=datetime(2026, 4, 8, tzinfo=UTC)
    )

    evaluate_alerts()

    assert not Alert.objects.filter(kind="no_check_in").exists()


def test_it_does_not_raise_no_check_in_for_a_prescription_paused_now(patient):
    rx = prescribe(patient)
    StatusChange.objects.create(
        prescription=rx, status="paused", effective_at=datetime(2026, 4, 10, 9, tzinfo=UTC)
    )
    rx.status = "paused"
    rx.save()

    evaluate_alerts()

    assert not Alert.objects.filter(kind="no_check_in").exists()


def test_it_reads_the_three_complete_days_in_the_patients_own_zone(clinic_a):
    # Kiritimati is UTC+14: at 10 April 12:00Z it is 02:00 on 11 April there, so the last
    # complete local days are 8, 9 and 10 April (in UTC they would be 7, 8 and 9).
    patient = PatientFactory(clinic=clinic_a, timezone="Pacific/Kiritimati")
    rx = prescribe(patient)
    # 07:10Z is 21:10 the same date in Kiritimati: sessions up to 7 April local.
    every_day(rx, date(2026, 3, 20), date(2026, 4, 7))
    # Evaluated in the same batch, 24 hours behind: Honolulu's last complete days are 7-9 April.
    honolulu = PatientFactory(clinic=clinic_a, timezone="Pacific/Honolulu")
    # 07:10Z is 21:10 the day before in Honolulu: sessions up to 6 April local.
    every_day(prescribe(honolulu), date(2026, 3, 21), date(2026, 4, 7))

    evaluate_alerts()

    alert = Alert.objects.get(patient=patient, kind="no_check_in")
    assert (alert.details["from"], alert.details["to"]) == ("2026-04-08", "2026-04-10")
    alert = Alert.objects.get(patient=honolulu, kind="no_check_in")
    assert (alert.details["from"], alert.details["to"]) == ("2026-04-07", "2026-04-09")


# --- low_adherence ------------------------------------------------------------------------


def test_it_raises_low_adherence_under_half_of_the_last_seven_complete_days(patient):
    rx = prescribe(patient, slots=[("morning", "07:00"), ("bedtime", "21:00")])
    # 3-9 April: 14 expected. Mornings on 3-8 April: 6 of 14 = 42.9 %.
    every_day(rx, date(2026, 3, 20), date(2026, 4, 8))

    evaluate_alerts()

    alert = Alert.objects.get(kind="low_adherence")
    assert alert.details["expected_sessions"] == 14
    assert alert.details["completed_sessions"] == 6
    assert alert.details["adherence_pct"] == 42.9


def test_it_does_not_raise_low_adherence_at_exactly_half(patient):
    rx = prescribe(patient, slots=[("morning", "07:00"), ("bedtime", "21:00")])
    # Mornings on 3-9 April: 7 of 14 = 50 %.
    every_day(rx, date(2026, 3, 20), date(2026, 4, 9))

    evaluate_alerts()

    assert not Alert.objects.filter(kind="low_adherence").exists()


def test_it_raises_low_adherence_from_four_expected_sessions(patient):
    # Started 6 April, one slot: 6-9 April, 4 expected, 0 done.
    prescribe(patient, start=date(2026, 4, 6))

    evaluate_alerts()

    assert Alert.objects.get(kind="low_adherence").details["expected_sessions"] == 4


def test_it_does_not_raise_low_adherence_on_three_expected_sessions(patient):
    # Started 7 April, one slot: 7-9 April, 3 expected, 0 done.
    prescribe(patient, start=date(2026, 4, 7))

    evaluate_alerts()

    assert not Alert.objects.filter(kind="low_adherence").exists()


def test_it_counts_a_slot_skipped_by_spring_forward_as_expected_for_low_adherence(clinic_a):
    # New York, 12 March 2026: the last 7 complete days are 5-11 March, across 8 March when
    # 02:30 does not exist (read as 02:30 EST, 07:30Z). 3 of 7 = 42.9 %; a report that lost
    # the 8 March slot would see 3 of 6 = 50 % and stay quiet.
    patient = PatientFactory(clinic=clinic_a, timezone="America/New_York")
    rx = prescribe(patient, start=date(2026, 3, 1), slots=[("morning", "02:30")])
    for day in (5, 6, 7):
        session(rx, date(2026, 3, day), hour=13)  # 08:10 EST

    with time_machine.travel(datetime(2026, 3, 12, 16, tzinfo=UTC), tick=False):
        evaluate_alerts()

    alert = Alert.objects.get(patient=patient, kind="low_adherence")
    assert (alert.details["from"], alert.details["to"]) == ("2026-03-05", "2026-03-11")
    assert (alert.details["expected_sessions"], alert.details["completed_sessions"]) == (7, 3)


# --- pain_worsening -----------------------------------------------------------------------


def test_it_raises_pain_worsening_at_a_rise_of_two(patient):
    rx = prescribe(patient)
    # Baseline 20-26 March: 3.0. Recent 4-10 April: 5.0. Change +2.0.
    every_day(rx, date(2026, 3, 20), date(2026, 3, 26), pain_before=3)
    every_day(rx, date(2026, 4, 4), date(2026, 4, 10), pain_before=5)

    evaluate_alerts()

    alert = Alert.objects.get(kind="pain_worsening")
    assert (alert.details["baseline"], alert.details["recent"], alert.details["change"]) == (
        3.0,
        5.0,
        2.0,
    )


def test_it_does_not_raise_pain_worsening_below_a_rise_of_two(patient):
    rx = prescribe(patient)
    every_day(rx, date(2026, 3, 20), date(2026, 3, 26), pain_before=3)
    # Recent: six days at 5, one at 4: 34 / 7 = 4.857 → 4.9. Change +1.9.
    every_day(rx, date(2026, 4, 4), date(2026, 4, 9), pain_before=5)
    session(rx, date(2026, 4, 10), pain_before=4)

    evaluate_alerts()

    assert not Alert.objects.filter(kind="pain_worsening").exists()


# --- session_pain -------------------------------------------------------------------------


def test_it_raises_session_pain_on_two_of_the_last_seven_days(patient):
    rx = prescribe(patient, start=date(2026, 4, 1))
    # 4 April (the first of the last 7 days, 4-10 April) and 9 April: pain rose by 2.
    session(rx, date(2026, 4, 4), pain_before=3, pain_after=5)
    session(rx, date(2026, 4, 9), pain_before=4, pain_after=7)

    evaluate_alerts()

    assert Alert.objects.get(kind="session_pain").details["days"] == ["2026-04-04", "2026-04-09"]


@pytest.mark.parametrize(
    ("first", "rise"),
    [
        (date(2026, 4, 3), 2),  # 3 April is eight days back: only one day in the window
        (date(2026, 4, 4), 1),  # a rise of 1 is not enough
    ],
)
def test_it_does_not_raise_session_pain_below_the_threshold(patient, first, rise):
    rx = prescribe(patient, start=date(2026, 4, 1))
    session(rx, first, pain_before=3, pain_after=3 + rise)
    session(rx, date(2026, 4, 9), pain_before=4, pain_after=6)

    evaluate_alerts()

    assert not Alert.objects.filter(kind="session_pain").exists()


# --- evaluation ---------------------------------------------------------------------------


def test_it_keeps_one_open_alert_per_patient_and_kind(patient):
    prescribe(patient)

    first = evaluate_alerts()
    second = evaluate_alerts()

    assert kinds(first) == ["low_adherence", "no_check_in"]
    assert second == []
    assert Alert.objects.count() == 2


def test_it_shrugs_off_an_evaluation_racing_it_to_the_same_alert(patient, monkeypatch):
    prescribe(patient)
    insert = Alert.objects.bulk_create

    def after_a_rival(alerts, **kwargs):
        # Another evaluation raised the same alert between our read and our insert.
        Alert.objects.create(patient=patient, kind="no_check_in")
        return insert(alerts, **kwargs)

    monkeypatch.setattr(Alert.objects, "bulk_create", after_a_rival)

    evaluate_alerts()

    assert Alert.objects.filter(patient=patient, kind="no_check_in").count() == 1
    assert Alert.objects.filter(patient=patient, kind="low_adherence").count() == 1


def test_it_stays_quiet_for_a_while_after_an_alert_is_acknowledged(patient):
    prescribe(patient)
    evaluate_alerts()
    Alert.objects.update(acknowledged_at=NOW)

    assert evaluate_alerts() == []
    with time_machine.travel(NOW + timedelta(days=3, hours=1), tick=False):
        # Three days on, no check-in still: the clinician hears about it again.
        assert kinds(evaluate_alerts()) == ["no_check_in"]


def test_it_leaves_patients_on_track_alone(patient):
    rx = prescribe(patient)
    every_day(rx, date(2026, 3, 20), date(2026, 4, 10))

    assert evaluate_alerts() == []


def test_it_prints_what_the_command_raised(patient):
    prescribe(patient)
    out = StringIO()

    call_command("evaluate_alerts", stdout=out)

    assert f"no_check_in patient={patient.id}" in out.getvalue()
    assert "2 alert(s) raised." in out.getvalue()


def test_it_runs_as_the_periodic_task(patient):
    prescribe(patient)

    assert tasks.evaluate_alerts.delay().get() == 2


@pytest.mark.parametrize(("patients", "batches"), [(10, 1), (500, 10)])
def test_it_evaluates_each_batch_with_the_same_few_queries(
    django_assert_num_queries, clinic_a, clinician_a, patients, batches
):
    bulk_clinic(clinic_a, clinician_a, patients, start=date(2026, 4, 4), days=3)

    # Per batch: patients (1), their prescriptions with the status history, the ledger's
    # days (2), the figures by adherence's engine over the default range and over the last
    # full week (2), alerts already raised (1); in one transaction (a savepoint and its
    # release here, 2) the stored clinic rows outdated (1, first: the lock every writer
    # takes before an alert), the insert (1), its alert.raised events (1, a write: the
    # event commits with its alert), their reader's outdate (1) and the clinics' webhook
    # endpoints for them (1: none here, so no deliveries to insert); what was inserted
    # (1); then the empty last batch (1).
    with django_assert_num_queries(14 * batches + 1):
        raised = evaluate_alerts(batch_size=50)

    # Sessions on 4-6 April only, so 7-9 April are empty.
    assert kinds(raised).count("no_check_in") == patients


def test_it_evaluates_every_clinics_patients_a_clinic_at_a_time(clinic_a, clinic_b):
    # Patients of two clinics, their ids interleaved: a batch never mixes clinics, and no
    # patient is left out or evaluated twice.
    patients = [
        PatientFactory(clinic=clinic, timezone="UTC") for clinic in [clinic_a, clinic_b] * 3
    ]
    for patient in patients:
        rx = prescribe(patient)
        every_day(rx, date(2026, 3, 20), date(2026, 4, 6))

    raised = evaluate_alerts(batch_size=2)

    no_check_in = [a.patient_id for a in raised if a.kind == "no_check_in"]
    assert sorted(no_check_in) == sorted(p.id for p in patients)
