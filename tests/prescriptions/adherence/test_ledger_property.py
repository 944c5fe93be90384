"""The ledger against an oracle of the contract, after random histories of changes.

Slot changes, zone changes, pauses and resumes recorded with a past `effective`, and
check-ins, around clock changes; the scheduler's tick runs at some of those moments and
not at others. Changes apply from the moment they are made (PRODUCT.md, Definitions).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from patients.services import patient_update
from prescriptions import checkins, services
from prescriptions.adherence import adherence_report, clinic_patients, ledger
from prescriptions.adherence.clinic_table import clinic_adherence
from tests.clock_changes import CLOCK_CHANGES
from tests.factories import PatientFactory, knee_rocks
from tests.prescriptions.adherence.oracle import oracle_report
from tests.prescriptions.adherence.test_ledger import kept_patient_rows, kept_rows

TIMES = ["00:30", "02:30", "06:45", "07:00", "21:30", "23:45"]
ZONES = ["America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney"]
KINDS = ("morning", "bedtime")


def dates(first, last):
    while first <= last:
        yield first
        first += timedelta(days=1)


class Oracle:
    """PRODUCT.md, Definitions, read literally, with the schedule as it was at each instant;
    shares no code with prescriptions/."""

    def __init__(self, start, schedules, history, check_ins, now, written_at):
        self.start, self.now = start, now
        # [(since, zone, {kind: "HH:MM"})], oldest first; the first from the beginning.
        self.schedules = schedules
        self.written_at = written_at
        self.written_on = written_at.astimezone(ZoneInfo(schedules[0][1])).date()
        begins = self.at(start, "00:00", schedules[0][1])
        self.history = [(begins, "active"), *history]
        self.check_ins = [(self.dated(slot, t), slot) for slot, t in check_ins]
        self.today = now.astimezone(ZoneInfo(self.zone_at(now))).date()

    @staticmethod
    def at(day, hhmm, zone):
        wall = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=ZoneInfo(zone))
        return wall.replace(fold=0).astimezone(UTC)

    def zone_at(self, instant):
        return [zone for since, zone, _ in self.schedules if since <= instant][-1]

    def status(self, instant):
        found = None
        for effective_at, status in self.history:
            if effective_at <= instant:
                found = status
        return found

    def dated(self, slot, performed_at):
        local = performed_at.astimezone(ZoneInfo(self.zone_at(performed_at)))
        if slot == "bedtime" and local.hour < 4:
            return local.date() - timedelta(days=1)
        return local.date()

    def sessions(self, day):
        """{kind: instant} of the day, those still to come included."""
        found = {}
        bounds = [since for since, _, _ in self.schedules[1:]] + [datetime.max.replace(tzinfo=UTC)]
        for (since, zone, slots), until in zip(self.schedules, bounds, strict=True):
            for kind, hhmm in slots.items():
                instant = self.at(day, hhmm, zone)
                if (
                    kind not in found
                    and since <= instant < until
                    and day >= self.start
                    and self.status(instant) == "active"
                    # Gone by on the day it was written: never asked for.
                    and not (day == self.written_on and instant < self.written_at)
                ):
                    found[kind] = instant
        return found

    def expected(self, day):
        return [kind for kind, instant in self.sessions(day).items() if instant <= self.now]

    def active_day(self, day):
        if day < self.start:
            return False
        zones = {zone for _, zone, _ in self.schedules}
        candidates = [self.at(day, "00:00", zone) for zone in zones]
        candidates += [at for at, _ in self.history] + [s for s, _, _ in self.schedules]
        return any(
            self.status(c) == "active" and c.astimezone(ZoneInfo(self.zone_at(c))).date() == day
            for c in candidates
        )

    def done(self, day, kind):
        return (day, kind) in self.check_ins

    def day(self, day):
        expected = self.expected(day)
        completed = sum(self.done(day, kind) for kind in expected)
        # Done ahead of a session still to fall due: it waits for it, not extra.
        ahead = [kind for kind, instant in self.sessions(day).items() if instant > self.now]
        waiting = sum(self.done(day, kind) for kind in ahead)
        count = sum(d == day for d, _ in self.check_ins)
        return len(expected), completed, count - completed - waiting

    def streak(self, first, last):
        streak = 0
        for day in reversed(list(dates(first, last))):
            if day > self.today:
                continue
            if day == self.today:
                wanted = self.sessions(day)
                streak += bool(wanted) and all(self.done(day, k) for k in wanted)
                continue
            expected, completed, _ = self.day(day)
            if not self.active_day(day) or not expected:
                continue
            if completed < expected:
                break
            streak += 1
        return streak


step = st.one_of(
    st.tuples(st.just("check_in"), st.sampled_from(["morning", "bedtime", "night"])),
    st.tuples(
        st.just("slots"),
        st.fixed_dictionaries(
            {},
            optional={"morning": st.sampled_from(TIMES), "bedtime": st.sampled_from(TIMES)},
        ).filter(bool),
    ),
    st.tuples(st.just("zone"), st.sampled_from(ZONES)),
    st.tuples(st.just("status"), st.integers(min_value=0, max_value=60)),  # hours back
    st.tuples(st.just("tick"), st.just(None)),
)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    change=st.sampled_from(CLOCK_CHANGES),
    first_slots=st.fixed_dictionaries(
        {"morning": st.sampled_from(TIMES), "bedtime": st.sampled_from(TIMES)}
    ),
    steps=st.lists(
        st.tuples(st.integers(min_value=1, max_value=16), step),  # hours since the last step
        max_size=10,
    ),
    final_hours=st.integers(min_value=0, max_value=30),
    # Hours after 00:00 of its start it was written: on its first day after some slot's
    # time, or the next day (dated back).
    written_hours=st.integers(min_value=0, max_value=30),
)
# written at 13:03 with a 07:00 morning, a bedtime checked in at 21:00 for 21:30.
@example(
    change=("America/New_York", date(2026, 3, 8)),
    first_slots={"morning": "07:00", "bedtime": "21:30"},
    steps=[(8, ("check_in", "bedtime"))],
    final_hours=0,
    written_hours=13,
)
# Histories that once disagreed, kept as regressions:
# prescribed at midnight in London, moved to New York before it began there;
@example(
    change=("Europe/London", date(2026, 3, 29)),
    first_slots={"morning": "00:30", "bedtime": "00:30"},
    steps=[(1, ("zone", "America/New_York"))],
    final_hours=0,
    written_hours=0,
)
# called off at the instant it began in New York, then moved to London (a check-in between).
@example(
    change=("America/New_York", date(2026, 3, 8)),
    first_slots={"morning": "00:30", "bedtime": "00:30"},
    steps=[(1, ("status", 1)), (1, ("check_in", "morning")), (1, ("zone", "Europe/London"))],
    final_hours=0,
    written_hours=0,
)
# checked in at 01:00 in London on the first day, then moved to New York, where that day
# is still to come: it counts as a day with a session in the clinic's row as in the report;
@example(
    change=("Europe/London", date(2026, 3, 29)),
    first_slots={"morning": "00:30", "bedtime": "00:30"},
    steps=[(1, ("check_in", "morning")), (1, ("zone", "America/New_York"))],
    final_hours=0,
    written_hours=0,
)
# paused in its first hour in London, then moved to New York, where that hour's day is
# still to come: it stays the one active day;
@example(
    change=("Europe/London", date(2026, 3, 29)),
    first_slots={"morning": "00:30", "bedtime": "00:30"},
    steps=[(1, ("status", 0)), (1, ("zone", "America/New_York"))],
    final_hours=0,
    written_hours=0,
)
# moved west before it began, then a check-in before its first local day there.
@example(
    change=("Europe/London", date(2026, 3, 29)),
    first_slots={"morning": "07:00", "bedtime": "21:30"},
    steps=[(1, ("zone", "America/New_York")), (1, ("check_in", "night"))],
    final_hours=0,
    written_hours=0,
)
def test_it_agrees_with_the_contract_after_changes(
    clinic_a,
    clinician_a,
    django_capture_on_commit_callbacks,
    change,
    first_slots,
    steps,
    final_hours,
    written_hours,
):
    zone, changes_on = change
    start = changes_on - timedelta(days=2)
    begins = Oracle.at(start, "00:00", zone)
    written_at = begins + timedelta(hours=written_hours)
    patient = PatientFactory(clinic=clinic_a, timezone=zone)
    with time_machine.travel(written_at, tick=False):
        rx = services.prescription_create(
            patient=patient,
            clinician=clinician_a,
            protocol=knee_rocks(),
            start_date=start,
            slots=[{"kind": k, "time": time.fromisoformat(t)} for k, t in first_slots.items()],
        )
    schedules = [(datetime.min.replace(tzinfo=UTC), zone, dict(first_slots))]
    history, check_ins = [], []
    now = written_at
    for hours, (what, arg) in steps:
        now += timedelta(hours=hours)
        with time_machine.travel(now, tick=False):
            rx.refresh_from_db()
            if what == "check_in" and rx.status != "ended":
                if now < Oracle.at(start, "00:00", schedules[-1][1]):
                    # Moved west before it began: still before its first local day.
                    with pytest.raises(ValidationError):
                        checkins.checkin_record(
                            prescription=rx, slot=arg, performed_at=now, pain_before=3
                        )
                    continue
                checkins.checkin_record(prescription=rx, slot=arg, performed_at=now, pain_before=3)
                check_ins.append((arg, now))
            elif what == "slots" and rx.status != "ended":
                services.prescription_update(
                    prescription=rx,
                    slots=[{"kind": k, "time": time.fromisoformat(t)} for k, t in arg.items()],
                )
                if arg != schedules[-1][2]:
                    schedules.append((now, schedules[-1][1], dict(arg)))
            elif what == "zone":
                with django_capture_on_commit_callbacks(execute=True):
                    patient_update(patient=patient, timezone_name=arg)
                if arg != schedules[-1][1] and rx.status != "ended":
                    schedules.append((now, arg, schedules[-1][2]))
            elif what == "status" and rx.status != "ended":
                to = "paused" if rx.status == "active" else "active"
                to = "ended" if len(history) == 3 else to
                effective = now - timedelta(hours=arg)
                try:
                    services.prescription_status_change(prescription=rx, to=to, effective=effective)
                except ValidationError:
                    pass  # before the start or the last change: refused, nothing recorded
                else:
                    history.append((effective, to))
            elif what == "tick":
                ledger.ledger_tick(now=now)

    now += timedelta(hours=final_hours)
    first, last = start - timedelta(days=1), start + timedelta(days=8)
    with time_machine.travel(now, tick=False):
        report = adherence_report(patient=patient, start=first, end=last)
        assert report == oracle_report(patient, first, last, now)

    oracle = Oracle(start, schedules, history, check_ins, now, written_at)
    assert [(d["date"], d["expected"], d["completed"], d["extra"]) for d in report["by_day"]] == [
        (d, *oracle.day(d)) for d in dates(first, last)
    ]
    assert report["active_days"] == sum(oracle.active_day(d) for d in dates(first, last))
    assert report["current_streak_days"] == oracle.streak(first, last)

    # The clinic's report computes the same row in SQL.
    with time_machine.travel(now, tick=False):
        mine = clinic_patients(clinic_a.id).filter(id=patient.id)
        (row,) = clinic_adherence(clinic_id=clinic_a.id, patients=mine, start=first, end=last)[:]
    for name in (
        "expected_sessions",
        "completed_sessions",
        "adherence_pct",
        "active_days",
        "days_with_session",
        "current_streak_days",
        "extra_sessions",
        "night_sessions",
        "pain",
    ):
        assert row[name] == report[name], name

    # What was kept step by step is what a rebuild from the sources gives, the patient's
    # row as well as their days.
    kept = kept_rows()
    kept_patient = kept_patient_rows()
    with time_machine.travel(now, tick=False):
        ledger.ledger_rebuild(prescription_ids=[rx.id])
    assert kept_rows() == kept
    assert kept_patient_rows() == kept_patient
