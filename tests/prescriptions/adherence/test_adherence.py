"""The adherence report as a service, on hand-computed scenarios (docs/definitions.md)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from prescriptions.adherence import adherence_report
from prescriptions.models import StatusChange
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def check_in(prescription, slot, performed_at, pain_before=5, pain_after=None):
    return CheckInFactory(
        prescription=prescription,
        slot=slot,
        performed_at=performed_at,
        pain_before=pain_before,
        pain_after=pain_after if pain_after is not None else pain_before,
    )


def day(report, iso):
    return next(d for d in report["by_day"] if d["date"] == date.fromisoformat(iso))


@pytest.fixture
def new_york_fortnight(clinic_a):
    """Two weeks in New York, 2 to 15 March 2026, across the clocks going forward on the 8th.

    Slots 07:00 and 22:00 local. EST is UTC-5 until 8 March 02:00, EDT (UTC-4) after.
    Paused 5 March 15:00 EST (20:00Z), resumed 7 March 09:00 EST (14:00Z).
    """
    patient = PatientFactory(clinic=clinic_a, timezone="America/New_York")
    rx = PrescriptionFactory(
        patient=patient,
        start_date=date(2026, 3, 2),
        slots=[("morning", "07:00"), ("bedtime", "22:00")],
    )
    rx.end_date = date(2026, 3, 15)
    rx.save()
    StatusChange.objects.create(prescription=rx, status="paused", effective_at=utc(2026, 3, 5, 20))
    StatusChange.objects.create(prescription=rx, status="active", effective_at=utc(2026, 3, 7, 14))

    sessions = [
        # 2 March: both slots (07:10 EST = 12:10Z; 22:05 EST = 03:05Z on the 3rd).
        ("morning", utc(2026, 3, 2, 12, 10), 6),
        ("bedtime", utc(2026, 3, 3, 3, 5), 6),
        # 3 March: both slots, plus a second morning session (extra).
        ("morning", utc(2026, 3, 3, 12, 10), 6),
        ("morning", utc(2026, 3, 3, 12, 40), 6),
        ("bedtime", utc(2026, 3, 4, 3, 0), 5),
        # 4 March: morning; a night session at 03:00 EST (extra, night); bedtime missed.
        ("night", utc(2026, 3, 4, 8, 0), 7),
        ("morning", utc(2026, 3, 4, 12, 0), 5),
        # 5 March: morning missed; bedtime falls after the pause began (not expected).
        # 6 March: paused all day, not active; a bedtime session anyway (extra).
        ("bedtime", utc(2026, 3, 7, 3, 0), 4),
        # 7 March: resumed 09:00, so only bedtime is expected; done.
        ("bedtime", utc(2026, 3, 8, 3, 0), 4),
        # 8 March (clocks go forward): 07:30 EDT = 11:30Z; bedtime at 00:30 EDT on the 9th
        # (04:30Z) is before 04:00 local, so it counts for the 8th.
        ("morning", utc(2026, 3, 8, 11, 30), 4),
        ("bedtime", utc(2026, 3, 9, 4, 30), 4),
        # 9 March: both.
        ("morning", utc(2026, 3, 9, 11, 0), 3),
        ("bedtime", utc(2026, 3, 10, 2, 10), 3),
        # 10 March: morning only.
        ("morning", utc(2026, 3, 10, 11, 0), 3),
    ]
    # 11 to 15 March: both slots each day, pain 3, 3, 2, 2, 2.
    for d, pain in [(11, 3), (12, 3), (13, 2), (14, 2), (15, 2)]:
        sessions += [
            ("morning", utc(2026, 3, d, 11, 5), pain),
            ("bedtime", utc(2026, 3, d + 1, 2, 5), pain),
        ]
    # 15 March, 15:00 EDT: an "other" session (extra).
    sessions.append(("other", utc(2026, 3, 15, 19, 0), 2))
    for slot, at, pain in sessions:
        check_in(rx, slot, at, pain)
    return patient


@time_machine.travel(utc(2026, 3, 20, 12), tick=False)
def test_it_counts_a_fortnight_across_the_clock_change_with_a_pause(new_york_fortnight):
    report = adherence_report(
        patient=new_york_fortnight, start=date(2026, 3, 1), end=date(2026, 3, 16)
    )

    # Expected: 2, 3, 4 March 2 each (6); 5 March morning only (1); 6 March none (paused);
    # 7 March bedtime only (1); 8 to 15 March 2 each (16). 1 and 16 March are outside the
    # prescription. 6 + 1 + 1 + 16 = 24.
    assert report["expected_sessions"] == 24
    # Missing: 4 March bedtime, 5 March morning, 10 March bedtime. 24 - 3 = 21.
    assert report["completed_sessions"] == 21
    # 21 / 24 = 87.5 %.
    assert report["adherence_pct"] == Decimal("87.5")
    # Active: 2-5 March (4), 7-15 March (9); 6 March paused all day. 13.
    assert report["active_days"] == 13
    # 5 March is the only active day without any session. 13 - 1 = 12.
    assert report["days_with_session"] == 12
    # Extra: second morning on 3 March, the night session, the 6 March session, the
    # "other" on 15 March. 4, of which 1 night.
    assert report["extra_sessions"] == 4
    assert report["night_sessions"] == 1
    # Back from 16 March (not active, passed over): 15, 14, 13, 12, 11 complete, 10 not. 5.
    assert report["current_streak_days"] == 5
    # Baseline, 2-8 March: 6, 6, 6, 6, 5, 7, 5, 4, 4, 4, 4 = 57 over 11 = 5.18 → 5.2.
    # Recent, 10-16 March: 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2 = 29 over 12 = 2.42 → 2.4.
    assert report["pain"] == {
        "baseline": Decimal("5.2"),
        "recent": Decimal("2.4"),
        "change": Decimal("-2.8"),
        "meaningful": True,
    }


@time_machine.travel(utc(2026, 3, 20, 12), tick=False)
def test_it_gives_every_date_of_the_range_its_own_row(new_york_fortnight):
    report = adherence_report(
        patient=new_york_fortnight, start=date(2026, 3, 1), end=date(2026, 3, 16)
    )

    assert len(report["by_day"]) == 16
    assert day(report, "2026-03-01") == {
        "date": date(2026, 3, 1),
        "expected": 0,
        "completed": 0,
        "extra": 0,
        "pain_before_mean": None,
    }
    # Paused all day: nothing expected, the one session is extra.
    assert day(report, "2026-03-06")["expected"] == 0
    assert day(report, "2026-03-06")["extra"] == 1
    # 3 March: 6, 6, 5 → 17 / 3 = 5.67 → 5.7.
    assert day(report, "2026-03-03") == {
        "date": date(2026, 3, 3),
        "expected": 2,
        "completed": 2,
        "extra": 1,
        "pain_before_mean": Decimal("5.7"),
    }
    # The 00:30 bedtime session completes 8 March, not 9 March.
    assert day(report, "2026-03-08")["completed"] == 2
    assert day(report, "2026-03-09")["completed"] == 2
    assert day(report, "2026-03-09")["extra"] == 0


def test_it_sees_the_morning_slot_pass_an_hour_earlier_in_utc_after_the_clock_change(
    clinic_a,
):
    patient = PatientFactory(clinic=clinic_a, timezone="America/New_York")
    PrescriptionFactory(patient=patient, start_date=date(2026, 3, 8), slots=[("morning", "07:00")])

    # 07:00 EDT on 8 March is 11:00Z; with the winter offset it would be 12:00Z.
    with time_machine.travel(utc(2026, 3, 8, 11, 30), tick=False):
        report = adherence_report(patient=patient, start=date(2026, 3, 8), end=date(2026, 3, 8))

    assert report["expected_sessions"] == 1


def test_it_counts_a_spring_forward_slot_from_its_fold_0_instant(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="America/New_York")
    PrescriptionFactory(patient=patient, start_date=date(2026, 3, 8), slots=[("morning", "02:30")])

    # 02:30 does not exist on 8 March; read with the offset before the change it is 07:30Z.
    with time_machine.travel(utc(2026, 3, 8, 7, 29), tick=False):
        before = adherence_report(patient=patient, start=date(2026, 3, 8), end=date(2026, 3, 8))
    with time_machine.travel(utc(2026, 3, 8, 7, 30), tick=False):
        at = adherence_report(patient=patient, start=date(2026, 3, 8), end=date(2026, 3, 8))

    assert (before["expected_sessions"], at["expected_sessions"]) == (0, 1)


@pytest.fixture
def kolkata_patient(clinic_a):
    """Asia/Kolkata is UTC+05:30 all year: local dates run ahead of UTC dates."""
    patient = PatientFactory(clinic=clinic_a, timezone="Asia/Kolkata")
    rx = PrescriptionFactory(
        patient=patient,
        start_date=date(2026, 6, 1),
        slots=[("morning", "06:30"), ("bedtime", "21:30")],
    )
    # 1 June: 06:45 IST (01:15Z); bedtime at 00:15 IST on the 2nd (18:45Z on 1 June) counts
    # for 1 June.
    check_in(rx, "morning", utc(2026, 6, 1, 1, 15), 4)
    check_in(rx, "bedtime", utc(2026, 6, 1, 18, 45), 4)
    # 2 June: morning at 04:30 IST, which is still 1 June in UTC (23:00Z).
    check_in(rx, "morning", utc(2026, 6, 1, 23, 0), 3)
    check_in(rx, "bedtime", utc(2026, 6, 2, 16, 5), 3)
    # 3 June: morning at 06:30 IST (01:00Z).
    check_in(rx, "morning", utc(2026, 6, 3, 1, 0), 3)
    return patient, rx


@time_machine.travel(utc(2026, 6, 3, 10), tick=False)  # 15:30 IST on 3 June
def test_it_works_in_local_dates_east_of_utc(kolkata_patient):
    patient, _ = kolkata_patient

    report = adherence_report(patient=patient, start=date(2026, 5, 7), end=date(2026, 6, 3))

    # 1 and 2 June: 2 each; 3 June: morning only, bedtime (16:00Z) is still to come. 5.
    assert report["expected_sessions"] == 5
    assert report["completed_sessions"] == 5
    assert report["adherence_pct"] == Decimal("100.0")
    assert report["active_days"] == 3
    assert report["extra_sessions"] == 0
    assert day(report, "2026-06-02")["completed"] == 2
    # Today is not complete yet (bedtime to come): passed over, 2 and 1 June count. 2.
    assert report["current_streak_days"] == 2


@time_machine.travel(utc(2026, 6, 3, 10), tick=False)
def test_it_counts_today_in_the_streak_once_every_slot_of_today_is_done(kolkata_patient):
    patient, rx = kolkata_patient
    # 14:30 IST: the bedtime slot (21:30) has not come yet, so this completes no expected
    # session; it waits for that one (not extra), and every slot of today has its session.
    check_in(rx, "bedtime", utc(2026, 6, 3, 9, 0), 3)

    report = adherence_report(patient=patient, start=date(2026, 5, 7), end=date(2026, 6, 3))

    assert report["current_streak_days"] == 3
    assert report["expected_sessions"] == 5
    assert report["extra_sessions"] == 0


@time_machine.travel(utc(2026, 6, 3, 10), tick=False)
def test_it_answers_zeros_and_nulls_for_a_range_before_the_prescription_starts(
    kolkata_patient,
):
    patient, _ = kolkata_patient

    report = adherence_report(patient=patient, start=date(2026, 5, 20), end=date(2026, 5, 31))

    assert report["expected_sessions"] == 0
    assert report["adherence_pct"] is None
    assert report["active_days"] == 0
    assert report["current_streak_days"] == 0
    assert {d["expected"] for d in report["by_day"]} == {0}
    # Baseline is the first prescription's first week whatever the range:
    # 4, 4, 3, 3, 3 = 17 / 5 = 3.4; nothing recent, so no change.
    assert report["pain"] == {
        "baseline": Decimal("3.4"),
        "recent": None,
        "change": None,
        "meaningful": False,
    }


def test_it_answers_an_empty_report_for_a_patient_never_prescribed(clinic_a):
    patient = PatientFactory(clinic=clinic_a)

    report = adherence_report(patient=patient, start=date(2026, 1, 1), end=date(2026, 1, 1))

    assert report["expected_sessions"] == report["completed_sessions"] == 0
    assert report["adherence_pct"] is None
    assert report["pain"] == {
        "baseline": None,
        "recent": None,
        "change": None,
        "meaningful": False,
    }
    assert report["by_day"] == [
        {
            "date": date(2026, 1, 1),
            "expected": 0,
            "completed": 0,
            "extra": 0,
            "pain_before_mean": None,
        }
    ]


@time_machine.travel(utc(2026, 2, 20, 12), tick=False)
def test_it_rounds_pain_means_half_up(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="UTC")
    rx = PrescriptionFactory(
        patient=patient, start_date=date(2026, 2, 1), slots=[("morning", "07:00")]
    )
    # Baseline 4, 4, 4, 5 = 4.25 → 4.3 (half up, not to even).
    for hour, pain in enumerate([4, 4, 4, 5]):
        check_in(rx, "other", utc(2026, 2, 2, 8 + hour), pain)
    # Recent 6, 6, 6, 7 = 6.25 → 6.3; change 6.3 - 4.3 = 2.0, meaningful.
    for hour, pain in enumerate([6, 6, 6, 7]):
        check_in(rx, "other", utc(2026, 2, 19, 8 + hour), pain)

    report = adherence_report(patient=patient, start=date(2026, 2, 14), end=date(2026, 2, 20))

    assert report["pain"] == {
        "baseline": Decimal("4.3"),
        "recent": Decimal("6.3"),
        "change": Decimal("2.0"),
        "meaningful": True,
    }


@time_machine.travel(utc(2026, 2, 20, 12), tick=False)
def test_it_takes_recent_pain_from_the_whole_range_when_it_is_under_seven_days(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="UTC")
    rx = PrescriptionFactory(
        patient=patient, start_date=date(2026, 2, 1), slots=[("morning", "07:00")]
    )
    # 15 February is within 7 days of the range's end but before its start: left out.
    check_in(rx, "other", utc(2026, 2, 15, 8), 9)
    check_in(rx, "night", utc(2026, 2, 17, 3), 4)
    check_in(rx, "morning", utc(2026, 2, 18, 7, 5), 3)

    report = adherence_report(patient=patient, start=date(2026, 2, 17), end=date(2026, 2, 19))

    assert report["pain"]["recent"] == Decimal("3.5")


@time_machine.travel(utc(2026, 2, 20, 12), tick=False)
def test_it_does_not_call_a_change_under_two_points_meaningful(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="UTC")
    rx = PrescriptionFactory(
        patient=patient, start_date=date(2026, 2, 1), slots=[("morning", "07:00")]
    )
    check_in(rx, "other", utc(2026, 2, 2, 8), 5)
    # 6.9 - 5.0 = 1.9.
    for hour, pain in enumerate([7] * 9 + [6]):
        check_in(rx, "other", utc(2026, 2, 19, 1 + hour), pain)

    report = adherence_report(patient=patient, start=date(2026, 2, 14), end=date(2026, 2, 20))

    assert report["pain"]["change"] == Decimal("1.9")
    assert report["pain"]["meaningful"] is False


@time_machine.travel(utc(2026, 4, 10, 12), tick=False)
def test_it_stops_expecting_sessions_from_the_day_a_prescription_was_ended(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="UTC")
    rx = PrescriptionFactory(
        patient=patient, start_date=date(2026, 4, 1), slots=[("morning", "07:00")]
    )
    # Ended on 5 April at 12:00: 5 April is its last active day.
    StatusChange.objects.create(prescription=rx, status="ended", effective_at=utc(2026, 4, 5, 12))

    report = adherence_report(patient=patient, start=date(2026, 4, 1), end=date(2026, 4, 10))

    assert report["active_days"] == 5
    assert report["expected_sessions"] == 5


@time_machine.travel(utc(2026, 4, 10, 12), tick=False)
def test_it_breaks_the_streak_at_a_missed_day_but_passes_over_a_paused_one(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="UTC")
    rx = PrescriptionFactory(
        patient=patient, start_date=date(2026, 4, 1), slots=[("morning", "07:00")]
    )
    # Paused all of 8 April.
    StatusChange.objects.create(prescription=rx, status="paused", effective_at=utc(2026, 4, 7, 23))
    StatusChange.objects.create(prescription=rx, status="active", effective_at=utc(2026, 4, 9, 0))
    # Done on 1-3 and 5-7, 9 and 10 April; 4 April missed.
    for d in [1, 2, 3, 5, 6, 7, 9, 10]:
        check_in(rx, "morning", utc(2026, 4, d, 7, 5))

    report = adherence_report(patient=patient, start=date(2026, 4, 1), end=date(2026, 4, 10))

    # 10 (today, its only slot done), 9, [8 passed over], 7, 6, 5; 4 April breaks it. 5.
    assert report["current_streak_days"] == 5
    assert report["active_days"] == 9


@time_machine.travel(utc(2026, 6, 3, 10), tick=False)
def test_it_expects_nothing_yet_of_a_range_still_to_come(kolkata_patient):
    patient, _ = kolkata_patient

    report = adherence_report(patient=patient, start=date(2026, 6, 4), end=date(2026, 6, 10))

    # Active days (nothing paused them) but no slot time has passed yet.
    assert report["active_days"] == 7
    assert report["expected_sessions"] == 0
    assert report["adherence_pct"] is None
    assert report["days_with_session"] == 0
    assert report["current_streak_days"] == 0


@time_machine.travel(utc(2026, 6, 3, 20), tick=False)  # 20:00 in New York on 3 June
def test_it_counts_the_days_to_come_of_a_prescription_starting_tomorrow(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="America/New_York")
    PrescriptionFactory(patient=patient, start_date=date(2026, 6, 4))

    report = adherence_report(patient=patient, start=date(2026, 6, 3), end=date(2026, 6, 9))

    # Prescribed the evening before it starts: today is not active, 4-9 June will be.
    assert report["active_days"] == 6
    assert report["expected_sessions"] == 0


@time_machine.travel(utc(2026, 3, 10, 12), tick=False)
def test_it_takes_the_baseline_from_the_first_prescription_and_counts_every_one(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="UTC")
    first = PrescriptionFactory(
        patient=patient, start_date=date(2026, 2, 1), slots=[("morning", "07:00")]
    )
    StatusChange.objects.create(
        prescription=first, status="ended", effective_at=utc(2026, 2, 10, 12)
    )
    second = PrescriptionFactory(
        patient=patient, start_date=date(2026, 3, 1), slots=[("bedtime", "21:00")]
    )
    # First week of the first prescription (1-7 February): 6 and 8, baseline 7.0. The
    # 8 February session is outside that week.
    check_in(first, "morning", utc(2026, 2, 1, 7, 5), 6)
    check_in(first, "morning", utc(2026, 2, 7, 7, 5), 8)
    check_in(first, "morning", utc(2026, 2, 8, 7, 5), 1)
    # The second prescription's first days do not make a baseline: recent 4-10 March is 3.0.
    check_in(second, "bedtime", utc(2026, 3, 4, 21, 5), 3)

    report = adherence_report(patient=patient, start=date(2026, 2, 9), end=date(2026, 3, 10))

    assert report["pain"] == {
        "baseline": Decimal("7.0"),
        "recent": Decimal("3.0"),
        "change": Decimal("-4.0"),
        "meaningful": True,
    }
    # 9 and 10 February of the first (ended at noon on the 10th, after its 07:00 slot),
    # then 1-9 March of the second (10 March's 21:00 is still to come): 2 + 9.
    assert report["expected_sessions"] == 11
    assert report["completed_sessions"] == 1


@time_machine.travel(utc(2026, 3, 20, 12), tick=False)
def test_it_takes_no_baseline_from_a_prescription_called_off_before_it_began(clinic_a):
    patient = PatientFactory(clinic=clinic_a, timezone="UTC")
    called_off = PrescriptionFactory(patient=patient, start_date=date(2026, 3, 1))
    # Ended at the instant it would have started: not one day of it was active.
    StatusChange.objects.create(
        prescription=called_off, status="ended", effective_at=utc(2026, 3, 1)
    )
    rx = PrescriptionFactory(patient=patient, start_date=date(2026, 3, 10))
    check_in(rx, "morning", utc(2026, 3, 10, 7, 5), 6)
    check_in(rx, "morning", utc(2026, 3, 16, 7, 5), 4)
    check_in(rx, "morning", utc(2026, 3, 19, 7, 5), 2)

    report = adherence_report(patient=patient, start=date(2026, 3, 14), end=date(2026, 3, 20))

    # The patient's first prescription that ran is the one from 10 March: 6 and 4 → 5.0.
    assert report["pain"]["baseline"] == Decimal("5.0")
    assert report["pain"]["change"] == Decimal("-2.0")
