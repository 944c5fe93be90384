"""Property: over clock changes in many zones, the tick creates exactly one reminder per
active slot-day, none early, none missed, none doubled, each at the contract's instant.

The expected instants come from an oracle written straight from docs/definitions.md,
"Reminder times", independent of prescriptions/schedule.py.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients.models import ReminderPreference
from prescriptions.models import Reminder, StatusChange
from prescriptions.reminders.plan import slots_reschedule
from tests.clock_changes import CLOCK_CHANGES
from tests.factories import CheckInFactory, PatientFactory
from tests.prescriptions.reminders_support import scheduled_prescription, tick

pytestmark = pytest.mark.django_db

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
]
# Times that fall in, next to or across the gaps and repeats of those zones' changes.
TRICKY_TIMES = ["00:00", "00:05", "00:30", "01:30", "02:00", "02:15", "02:30", "03:00", "23:59"]
HEAT_MINUTES = 10  # the knee-rocks protocol


def clock_changes(tz: ZoneInfo, year: int) -> list[date]:
    """Local dates of the year on which the zone's offset changes (none for Kolkata)."""
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
    return [
        day
        for day in days
        if datetime.combine(day, time(0), tz).utcoffset()
        != datetime.combine(day + timedelta(days=1), time(0), tz).utcoffset()
    ]


def expected_instants(tz, slots, heat_prep, first, last) -> set[tuple[str, date, datetime]]:
    starts = datetime.combine(first, time(0), tz).astimezone(UTC)
    expected = set()
    day = first
    while day <= last:
        for kind, hhmm in slots:
            # PEP 495 fold=0: a skipped time with the offset before the change, a repeated
            # one at its first occurrence.
            local = datetime.combine(day, time.fromisoformat(hhmm), tz).replace(fold=0)
            instant = local.astimezone(UTC)
            if kind == "bedtime" and heat_prep:
                instant -= timedelta(minutes=HEAT_MINUTES)
            if instant >= starts:  # active from local midnight of the start date
                expected.add((kind, day, instant))
        day += timedelta(days=1)
    return expected


@st.composite
def cases(draw):
    zone = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone)
    year = draw(st.integers(min_value=2020, max_value=2030))
    changes = clock_changes(tz, year)
    if changes:
        around = draw(st.sampled_from(changes))
    else:
        around = draw(st.dates(min_value=date(year, 1, 2), max_value=date(year, 12, 30)))
    times = st.one_of(
        st.sampled_from(TRICKY_TIMES),
        st.times().map(lambda t: t.strftime("%H:%M")),
    )
    slots = [("morning", draw(times)), ("bedtime", draw(times))]
    return {
        "zone": zone,
        "first": around - timedelta(days=1),
        "last": around + timedelta(days=1),
        "slots": slots,
        "heat_prep": draw(st.booleans()),
        "extra_ticks": draw(st.lists(st.integers(0, 4 * 24 * 60), max_size=6)),
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_it_reminds_once_per_active_slot_day_at_the_contract_instant_across_clock_changes(
    case,
):
    tz = ZoneInfo(case["zone"])
    first, last = case["first"], case["last"]
    expected = expected_instants(tz, case["slots"], case["heat_prep"], first, last)
    window_start = datetime.combine(first, time(0), tz).astimezone(UTC) - timedelta(hours=1)
    window_end = datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(UTC)

    # Tick a minute before each instant (nothing yet), on it (there it is), and at random.
    ticks = {instant for _, _, instant in expected}
    ticks |= {instant - timedelta(minutes=1) for instant in ticks}
    ticks |= {window_start + timedelta(minutes=m) for m in case["extra_ticks"]}
    ticks = sorted(t for t in ticks if window_start < t < window_end)

    with transaction.atomic():
        mail.outbox = []
        with time_machine.travel(window_start, tick=False):
            patient = PatientFactory(timezone=case["zone"])
            prescription = scheduled_prescription(
                patient,
                start_date=first,
                end_date=last,
                slots=case["slots"],
                heat_prep=case["heat_prep"],
            )
        for now in ticks:
            with time_machine.travel(now, tick=False):
                tick()
            rows = Reminder.objects.filter(prescription=prescription)
            created = set(rows.values_list("slot", "local_date", "fire_at"))
            assert created == {e for e in expected if e[2] <= now}, now

        assert rows.count() == len(expected)
        assert set(rows.values_list("status", flat=True)) <= {"sent"}
        assert len(mail.outbox) == len(expected)
        transaction.set_rollback(True)


@st.composite
def paused_cases(draw):
    zone, changes_on = draw(st.sampled_from(CLOCK_CHANGES))
    times = st.sampled_from([*TRICKY_TIMES, "07:00", "21:30"])
    quiet = draw(st.one_of(st.none(), st.tuples(times, times).filter(lambda q: q[0] != q[1])))
    return {
        "zone": zone,
        "first": changes_on - timedelta(days=1),
        "last": changes_on + timedelta(days=1),
        "slots": [("morning", draw(times)), ("bedtime", draw(times))],
        "heat_prep": draw(st.booleans()),
        # Hours after local midnight of the first date at which it is paused, then resumed…
        "changes": sorted(draw(st.lists(st.integers(0, 3 * 24), max_size=4, unique=True))),
        "quiet": quiet,
        # (slot, hours after local midnight of the first date) of sessions logged up front.
        "sessions": draw(
            st.lists(st.tuples(st.sampled_from(["morning", "bedtime"]), st.integers(0, 72)))
        ),
    }


def in_quiet(quiet, at: time) -> bool:
    start, end = (time.fromisoformat(t) for t in quiet)
    return start <= at < end if start < end else at >= start or at < end


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=paused_cases())
def test_it_reminds_only_while_active_and_skips_sessions_done_and_quiet_hours(case):
    tz = ZoneInfo(case["zone"])
    first, last = case["first"], case["last"]
    begins = datetime.combine(first, time(0), tz).astimezone(UTC)
    history = [
        (begins + timedelta(hours=h), "paused" if n % 2 == 0 else "active")
        for n, h in enumerate(case["changes"])
    ]
    sessions = [(slot, begins + timedelta(hours=h)) for slot, h in case["sessions"]]

    def status_at(instant):
        found = "active"  # from 00:00 local of the start date
        for effective_at, status in history:
            if effective_at <= instant:
                found = status
        return found

    def dated(slot, at):
        local = at.astimezone(tz)
        return local.date() - timedelta(days=slot == "bedtime" and local.hour < 4)

    done = {(slot, dated(slot, at)) for slot, at in sessions}
    expected = {}
    for kind, day, instant in expected_instants(tz, case["slots"], case["heat_prep"], first, last):
        if status_at(instant) != "active":
            continue  # paused: nothing at all
        if (kind, day) in done:
            expected[(kind, day, instant)] = "skipped: already checked in for this session"
        elif case["quiet"] and in_quiet(case["quiet"], instant.astimezone(tz).time()):
            expected[(kind, day, instant)] = "skipped: inside the patient's quiet hours"
        else:
            expected[(kind, day, instant)] = "sent: "

    with transaction.atomic():
        with time_machine.travel(begins - timedelta(hours=1), tick=False):
            patient = PatientFactory(timezone=case["zone"])
            if case["quiet"]:
                ReminderPreference.objects.create(
                    patient=patient,
                    quiet_start=time.fromisoformat(case["quiet"][0]),
                    quiet_end=time.fromisoformat(case["quiet"][1]),
                )
            prescription = scheduled_prescription(
                patient,
                start_date=first,
                end_date=last,
                slots=case["slots"],
                heat_prep=case["heat_prep"],
            )
            for effective_at, status in history:
                StatusChange.objects.create(
                    prescription=prescription, status=status, effective_at=effective_at
                )
            for slot, at in sessions:
                CheckInFactory(prescription=prescription, slot=slot, performed_at=at)
            slots_reschedule(prescription_id=prescription.id)
        all_instants = expected_instants(tz, case["slots"], case["heat_prep"], first, last)
        ticks = sorted({instant for _, _, instant in all_instants})
        for now in ticks:
            with time_machine.travel(now, tick=False):
                tick()

        rows = Reminder.objects.filter(prescription=prescription)
        found = {(r.slot, r.local_date, r.fire_at): f"{r.status}: {r.reason}" for r in rows}
        assert found == expected
        transaction.set_rollback(True)
