"""The pure reminder-time rules of prescriptions/schedule.py."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prescriptions.schedule import Plan, checkin_local_date, next_occurrence, occurrences

NEW_YORK = ZoneInfo("America/New_York")
ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
]


def plan(tz=NEW_YORK, *, start=date(2024, 1, 1), end=None, slots=None, heat=0, history=()):
    return Plan(
        tz=tz,
        start_date=start,
        end_date=end,
        slots=slots or (("morning", time(7)), ("bedtime", time(22))),
        heat_prep_minutes=heat,
        history=history,
    )


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_it_reads_a_time_skipped_by_spring_forward_with_the_offset_before_the_change():
    found = occurrences(
        plan(slots=(("morning", time(2, 30)),)), date(2024, 3, 10), date(2024, 3, 10)
    )

    assert [o.fire_at for o in found] == [utc(2024, 3, 10, 7, 30)]


def test_it_fires_a_time_repeated_by_fall_back_once_at_its_first_occurrence():
    found = occurrences(
        plan(slots=(("morning", time(1, 30)),)), date(2024, 11, 3), date(2024, 11, 3)
    )

    assert [o.fire_at for o in found] == [utc(2024, 11, 3, 5, 30)]


def test_it_brings_bedtime_forward_by_the_heat_preparation():
    found = occurrences(plan(heat=10), date(2024, 6, 3), date(2024, 6, 3))

    assert [(o.slot, o.fire_at) for o in found] == [
        ("morning", utc(2024, 6, 3, 11, 0)),
        ("bedtime", utc(2024, 6, 4, 1, 50)),
    ]


def test_it_leaves_the_morning_alone_when_heat_is_prescribed():
    found = occurrences(
        plan(heat=10, slots=(("morning", time(7)),)), date(2024, 6, 3), date(2024, 6, 3)
    )

    assert found[0].fire_at == utc(2024, 6, 3, 11, 0)


def test_it_fires_nothing_before_the_start_or_after_the_end():
    found = occurrences(
        plan(start=date(2024, 6, 2), end=date(2024, 6, 3)), date(2024, 6, 1), date(2024, 6, 4)
    )

    assert {o.local_date for o in found} == {date(2024, 6, 2), date(2024, 6, 3)}


def test_it_fires_nothing_while_paused_and_fires_again_from_the_resume():
    history = (
        (utc(2024, 6, 1, 4), "active"),
        (utc(2024, 6, 2, 20), "paused"),  # 16:00 New York: the bedtime slot is paused
        (utc(2024, 6, 3, 12), "active"),  # 08:00: the morning passed while paused
    )
    found = occurrences(plan(history=history), date(2024, 6, 2), date(2024, 6, 3))

    assert [(o.local_date.day, o.slot) for o in found] == [(2, "morning"), (3, "bedtime")]


def test_it_fires_nothing_after_the_prescription_ended():
    history = ((utc(2024, 6, 1, 4), "active"), (utc(2024, 6, 2, 20), "ended"))

    assert next_occurrence(plan(history=history), "morning", time(7), utc(2024, 6, 2, 21)) is None


def test_it_finds_the_next_fire_on_the_following_day_once_today_has_passed():
    found = next_occurrence(plan(), "morning", time(7), utc(2024, 6, 3, 12))

    assert (found.local_date, found.fire_at) == (date(2024, 6, 4), utc(2024, 6, 4, 11))


def test_it_finds_a_heat_prepared_bedtime_that_fires_the_evening_before_its_date():
    found = next_occurrence(plan(heat=10), "bedtime", time(0, 5), utc(2024, 6, 3, 3, 0))

    # 23:55 on the 2nd in New York is the reminder of the 00:05 session dated the 3rd.
    assert (found.local_date, found.fire_at) == (date(2024, 6, 3), utc(2024, 6, 3, 3, 55))


def test_it_follows_lord_howe_half_hour_clock_change():
    # Lord Howe moves from +11:00 to +10:30 on 2024-04-07 at 02:00 local.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    found = occurrences(
        plan(lord_howe, slots=(("morning", time(7)),)), date(2024, 4, 6), date(2024, 4, 7)
    )

    assert [o.fire_at for o in found] == [utc(2024, 4, 5, 20, 0), utc(2024, 4, 6, 20, 30)]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 1)),
    span=st.integers(min_value=0, max_value=30),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0, fold=0)),
)
def test_it_fires_every_slot_once_a_day_at_the_local_time_read_with_fold_0(zone, first, span, at):
    tz = ZoneInfo(zone)
    last = first + timedelta(days=span)
    found = occurrences(plan(tz, start=first, slots=(("morning", at),)), first, last)

    assert [o.local_date for o in found] == [first + timedelta(days=n) for n in range(span + 1)]
    for o in found:
        assert o.fire_at == datetime.combine(o.local_date, at, tzinfo=tz).astimezone(UTC)
        # Stepping from one reminder to the next finds exactly the following one.
        following = next_occurrence(plan(tz, start=first, slots=()), "morning", at, o.fire_at)
        assert following.local_date == o.local_date + timedelta(days=1)


@pytest.mark.parametrize(
    ("zone", "performed_at", "slot", "dated"),
    [
        # The second 01:30 of New York's fall-back night is still before 04:00.
        ("America/New_York", "2026-11-01T01:30:00-05:00", "bedtime", "2026-10-31"),
        ("America/New_York", "2026-11-01T01:30:00-05:00", "morning", "2026-11-01"),
        ("America/New_York", "2026-11-01T01:30:00-05:00", "night", "2026-11-01"),
        ("Europe/London", "2026-03-29T03:59:00+01:00", "bedtime", "2026-03-28"),
        ("Europe/London", "2026-03-29T04:00:00+01:00", "bedtime", "2026-03-29"),
        ("Europe/London", "2026-10-25T01:30:00+00:00", "bedtime", "2026-10-24"),
        ("Australia/Sydney", "2026-04-05T02:30:00+10:00", "bedtime", "2026-04-04"),
        ("Australia/Sydney", "2026-10-04T03:30:00+11:00", "bedtime", "2026-10-03"),
        ("America/Santiago", "2026-09-06T01:30:00-03:00", "bedtime", "2026-09-05"),
        ("America/Santiago", "2026-09-06T01:30:00-03:00", "other", "2026-09-06"),
        ("Australia/Lord_Howe", "2026-10-04T03:59:00+11:00", "bedtime", "2026-10-03"),
        ("Australia/Lord_Howe", "2026-04-05T01:45:00+10:30", "bedtime", "2026-04-04"),
        # In UTC: 03:59 and 04:00 EDT, just after the clocks went forward.
        ("America/New_York", "2026-03-08T07:59:00+00:00", "bedtime", "2026-03-07"),
        ("America/New_York", "2026-03-08T08:00:00+00:00", "bedtime", "2026-03-08"),
    ],
)
def test_it_dates_a_check_in_by_the_patients_local_date_and_late_bedtimes_the_day_before(
    zone, performed_at, slot, dated
):
    instant = datetime.fromisoformat(performed_at)

    assert checkin_local_date(instant, ZoneInfo(zone), slot) == date.fromisoformat(dated)
