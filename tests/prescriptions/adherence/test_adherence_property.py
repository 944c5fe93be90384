"""Invariants of the adherence report over random histories of sessions and pauses."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prescriptions.adherence import adherence_report, clinic_patients, current_streak_days
from prescriptions.adherence.clinic_table import clinic_adherence
from prescriptions.models import CheckIn, StatusChange
from tests.clock_changes import CLOCK_CHANGES
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory
from tests.prescriptions.adherence.oracle import oracle_report

NOW = datetime(2026, 3, 20, 15, tzinfo=UTC)
START = date(2026, 3, 1)

sessions = st.lists(
    st.tuples(
        st.sampled_from(["morning", "bedtime", "night", "other"]),
        # Minutes after 1 March 00:00Z, up to NOW: some today, before their slot's time.
        st.integers(min_value=0, max_value=19 * 24 * 60 + 15 * 60),
        st.integers(min_value=0, max_value=10),
    ),
    max_size=25,
)
pauses = st.lists(st.integers(min_value=0, max_value=19 * 24), max_size=4, unique=True)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    zone=st.sampled_from(["America/New_York", "Asia/Kolkata", "Australia/Sydney"]),
    sessions=sessions,
    pauses=pauses,
    span=st.tuples(st.integers(0, 25), st.integers(0, 25)).map(sorted),
    # Hours after 1 March 00:00Z it was written: in its first day, its second, or later.
    written=st.integers(min_value=0, max_value=19 * 24),
)
def test_it_keeps_its_totals_consistent(clinic_a, zone, sessions, pauses, span, written):
    patient = PatientFactory(clinic=clinic_a, timezone=zone)
    with time_machine.travel(NOW, tick=False):
        rx = PrescriptionFactory(
            patient=patient,
            start_date=START,
            created_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=written),
        )
        # Alternate pause / resume at the given hours after the start, up to now (the
        # status service refuses a change in the future).
        for n, hour in enumerate(sorted(pauses)):
            effective_at = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=1, hours=hour)
            if effective_at <= NOW:
                StatusChange.objects.create(
                    prescription=rx,
                    status="paused" if n % 2 == 0 else "active",
                    effective_at=effective_at,
                )
        status_cached(rx)
        for slot, minutes, pain in sessions:
            CheckInFactory(
                prescription=rx,
                slot=slot,
                performed_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=minutes),
                pain_before=pain,
            )
        start = START - timedelta(days=3) + timedelta(days=span[0])
        end = START - timedelta(days=3) + timedelta(days=span[1])
        report = adherence_report(patient=patient, start=start, end=end)
        # The clinic table's statement (the one engine) against the Python oracle.
        assert report == oracle_report(patient, start, end, NOW)

    days = report["by_day"]
    today = NOW.astimezone(ZoneInfo(zone)).date()
    dated = CheckIn.objects.filter(patient=patient, local_date__range=(start, end))
    assert len(days) == (end - start).days + 1
    assert report["expected_sessions"] == sum(d["expected"] for d in days)
    assert report["completed_sessions"] == sum(d["completed"] for d in days)
    assert report["extra_sessions"] == sum(d["extra"] for d in days)
    assert all(0 <= d["completed"] <= d["expected"] <= 2 for d in days)
    for d in days:
        count = dated.filter(local_date=d["date"]).count()
        if d["date"] < today:
            assert d["completed"] + d["extra"] == count
        else:
            # Today a check-in may wait for a session still ahead: one per slot at most.
            assert 0 <= count - d["completed"] - d["extra"] <= 2 - d["expected"]
    assert report["days_with_session"] <= report["active_days"] <= len(days)
    assert report["current_streak_days"] <= report["active_days"]
    assert report["night_sessions"] <= report["extra_sessions"]
    if report["expected_sessions"]:
        assert 0 <= report["adherence_pct"] <= 100


def status_cached(rx):
    """`Prescription.status` as the status service keeps it: the status now, after the
    history written by hand above (docs/definitions.md, "Status at an instant")."""
    last = rx.status_changes.order_by("-effective_at", "-id").first()
    rx.status = last.status if last else "active"
    rx.save(update_fields=["status"])


# --- Against an oracle written from the contract, over clock changes ------------------------

ORACLE_TIMES = ["00:00", "00:30", "01:45", "02:15", "02:45", "03:59", "07:00", "21:30", "23:45"]


class Oracle:
    """docs/definitions.md read literally; shares no code with prescriptions/."""

    def __init__(self, tz, start, end_date, slots, history, check_ins, now, written_at):
        self.tz, self.start, self.end_date, self.now = tz, start, end_date, now
        self.written_at, self.written_on = written_at, written_at.astimezone(tz).date()
        self.slots = slots
        # Active from 00:00 local of the start date, then as the history says.
        self.history = [(self.midnight(start), "active"), *history]
        self.ended_on = next(
            (at.astimezone(tz).date() for at, status in history if status == "ended"), None
        )
        self.check_ins = [(self.dated(slot, at), slot, pain) for slot, at, pain in check_ins]
        self.today = now.astimezone(tz).date()

    def at(self, day, hhmm):
        wall = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=self.tz)
        return wall.replace(fold=0).astimezone(UTC)

    def midnight(self, day):
        return self.at(day, "00:00")

    def dated(self, slot, performed_at):
        local = performed_at.astimezone(self.tz)
        if slot == "bedtime" and local.hour < 4:
            return local.date() - timedelta(days=1)
        return local.date()

    def status(self, instant):
        found = None
        for effective_at, status in self.history:
            if effective_at <= instant:
                found = status
        return found

    def in_dates(self, day):
        last = min(d for d in (self.end_date, self.ended_on, date.max) if d)
        return self.start <= day <= last

    def active_day(self, day):
        if not self.in_dates(day):
            return False
        begin, stop = self.midnight(day), self.midnight(day + timedelta(days=1))
        instants = [begin] + [at for at, _ in self.history if begin < at < stop]
        return any(self.status(i) == "active" for i in instants)

    def asked_for(self, day, hhmm):
        """Not a slot already gone by on the day it was written."""
        return not (day == self.written_on and self.at(day, hhmm) < self.written_at)

    def expected(self, day):
        return [
            kind
            for kind, hhmm in self.slots
            if self.in_dates(day)
            and self.at(day, hhmm) <= self.now
            and self.status(self.at(day, hhmm)) == "active"
            and self.asked_for(day, hhmm)
        ]

    def ahead(self, day):
        """The sessions of the day still to fall due (no change lies in the future)."""
        return [
            kind
            for kind, hhmm in self.slots
            if self.in_dates(day)
            and self.at(day, hhmm) > self.now
            and self.status(self.now) == "active"
        ]

    def done(self, day, kind):
        return any(d == day and slot == kind for d, slot, _ in self.check_ins)

    def day(self, day):
        expected = self.expected(day)
        completed = sum(self.done(day, kind) for kind in expected)
        waiting = sum(self.done(day, kind) for kind in self.ahead(day))
        count = sum(d == day for d, _, _ in self.check_ins)
        return len(expected), completed, count - completed - waiting, count

    def today_done(self):
        wanted = set(self.expected(self.today)) | set(self.ahead(self.today))
        return bool(wanted) and all(self.done(self.today, kind) for kind in wanted)

    def mean(self, first, last):
        pains = [pain for d, _, pain in self.check_ins if first <= d <= last]
        if not pains:
            return None
        return (Decimal(sum(pains)) / len(pains)).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def pain(self, first, last):
        baseline = self.mean(self.start, self.start + timedelta(days=6))
        recent = self.mean(max(first, last - timedelta(days=6)), last)
        change = None if baseline is None or recent is None else recent - baseline
        return {
            "baseline": baseline,
            "recent": recent,
            "change": change,
            "meaningful": change is not None and abs(change) >= 2,
        }

    def streak(self, first, last):
        streak = 0
        for day in reversed(list(dates(first, last))):
            if day > self.today:
                continue
            if day == self.today:
                streak += self.today_done()
                continue
            expected, completed, _, _ = self.day(day)
            if not self.active_day(day) or not expected:
                continue  # passed over
            if completed < expected:
                break
            streak += 1
        return streak


def dates(first, last):
    while first <= last:
        yield first
        first += timedelta(days=1)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    change=st.sampled_from(CLOCK_CHANGES),
    morning=st.sampled_from(ORACLE_TIMES),
    bedtime=st.sampled_from(ORACLE_TIMES),
    now_hours=st.integers(min_value=0, max_value=5 * 24),
    # From the first hour on: a prescription that never ran gives no baseline (tested apart).
    change_hours=st.lists(st.integers(min_value=1, max_value=8 * 24), max_size=4, unique=True),
    # When it was written, in hours from 00:00 of its start: the day before, on its first
    # day after some slot's time, or a day or two later (dated back).
    written_hours=st.integers(min_value=-30, max_value=2 * 24),
    ends=st.booleans(),
    end_after=st.one_of(st.none(), st.integers(min_value=0, max_value=7)),
    sessions=st.lists(
        st.tuples(
            st.sampled_from(["morning", "bedtime", "night", "other"]),
            st.integers(min_value=0, max_value=8 * 24 * 4),  # quarter hours from the start
            st.integers(min_value=0, max_value=10),
        ),
        max_size=20,
    ),
    # Sessions done ahead of their slot's time on its date: (kind, days before today,
    # minutes before the slot).
    early=st.lists(
        st.tuples(
            st.sampled_from(["morning", "bedtime"]),
            st.integers(min_value=0, max_value=1),
            st.integers(min_value=1, max_value=12 * 60),
        ),
        max_size=3,
    ),
)
def test_it_agrees_with_the_contract_over_clock_changes(
    clinic_a,
    change,
    morning,
    bedtime,
    now_hours,
    change_hours,
    written_hours,
    ends,
    end_after,
    sessions,
    early,
):
    zone, changes_on = change
    tz = ZoneInfo(zone)
    start = changes_on - timedelta(days=3)
    first, last = start - timedelta(days=1), changes_on + timedelta(days=4)
    begins = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    now = begins + timedelta(days=2, hours=now_hours)
    written_at = begins + timedelta(hours=written_hours)
    slots = [("morning", morning), ("bedtime", bedtime)]
    end_date = None if end_after is None else start + timedelta(days=end_after)

    # Alternate pause and resume at the given hours (up to now), maybe ending at the last.
    history = []
    instants = sorted(begins + timedelta(hours=h) for h in change_hours)
    for n, effective_at in enumerate(i for i in instants if i <= now):
        history.append((effective_at, "paused" if n % 2 == 0 else "active"))
    if ends and history:
        history[-1] = (history[-1][0], "ended")
    check_ins = [
        (slot, begins + timedelta(minutes=15 * quarters), pain)
        for slot, quarters, pain in sessions
        if begins + timedelta(minutes=15 * quarters) <= now
    ]
    today = now.astimezone(tz).date()
    for kind, days_back, minutes in early:
        hhmm = dict(slots)[kind]
        wall = datetime.combine(today - timedelta(days=days_back), time.fromisoformat(hhmm))
        performed_at = wall.replace(tzinfo=tz).astimezone(UTC) - timedelta(minutes=minutes)
        local = performed_at.astimezone(tz)
        # Still on the slot's date (a bedtime before 04:00 would count for the evening before).
        if performed_at <= now and local.date() == wall.date() and local.hour >= 4:
            check_ins.append((kind, performed_at, 5))

    patient = PatientFactory(clinic=clinic_a, timezone=zone)
    rx = PrescriptionFactory(patient=patient, start_date=start, slots=slots, created_at=written_at)
    rx.end_date = end_date
    rx.save()
    for effective_at, status in history:
        StatusChange.objects.create(prescription=rx, status=status, effective_at=effective_at)
    status_cached(rx)
    for slot, performed_at, pain in check_ins:
        CheckInFactory(prescription=rx, slot=slot, performed_at=performed_at, pain_before=pain)
    with time_machine.travel(now, tick=False):
        report = adherence_report(patient=patient, start=first, end=last)
        assert report == oracle_report(patient, first, last, now)
        advice_streak = current_streak_days(patient=patient)
        mine = clinic_patients(clinic_a.id).filter(id=patient.id)
        (row,) = clinic_adherence(clinic_id=clinic_a.id, patients=mine, start=first, end=last)[:]

    oracle = Oracle(tz, start, end_date, slots, history, check_ins, now, written_at)
    by_day = {d: oracle.day(d) for d in dates(first, last)}
    assert [(d["expected"], d["completed"], d["extra"]) for d in report["by_day"]] == [
        row[:3] for row in by_day.values()
    ]
    assert report["expected_sessions"] == sum(row[0] for row in by_day.values())
    assert report["completed_sessions"] == sum(row[1] for row in by_day.values())
    assert report["extra_sessions"] == sum(row[2] for row in by_day.values())
    assert report["night_sessions"] == sum(
        slot == "night" and first <= d <= last for d, slot, _ in oracle.check_ins
    )
    active = [d for d in by_day if oracle.active_day(d)]
    assert report["active_days"] == len(active)
    assert report["days_with_session"] == sum(by_day[d][3] > 0 for d in active)
    assert report["current_streak_days"] == oracle.streak(first, last)
    # What a check-in's advice reads: the streak of the 28 days up to today.
    assert advice_streak == oracle.streak(oracle.today - timedelta(days=27), oracle.today)
    assert report["pain"] == oracle.pain(first, last)
    # The clinic's table computes the same figures in SQL.
    for name in ("expected_sessions", "completed_sessions", "extra_sessions", "adherence_pct"):
        assert row[name] == report[name], name
    assert row["current_streak_days"] == report["current_streak_days"]
