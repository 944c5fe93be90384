"""Invariants of the adherence report over random histories of sessions and pauses."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prescriptions.adherence import adherence_report
from prescriptions.models import CheckIn, StatusChange
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory

NOW = datetime(2026, 3, 20, 15, tzinfo=UTC)
START = date(2026, 3, 1)

sessions = st.lists(
    st.tuples(
        st.sampled_from(["morning", "bedtime", "night", "other"]),
        st.integers(min_value=0, max_value=19 * 24 * 60),  # minutes after 1 March 00:00Z
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
)
def test_it_keeps_its_totals_consistent(clinic_a, zone, sessions, pauses, span):
    patient = PatientFactory(clinic=clinic_a, timezone=zone)
    with time_machine.travel(NOW, tick=False):
        rx = PrescriptionFactory(patient=patient, start_date=START)
        # Alternate pause / resume at the given hours after the start.
        for n, hour in enumerate(sorted(pauses)):
            StatusChange.objects.create(
                prescription=rx,
                status="paused" if n % 2 == 0 else "active",
                effective_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=1, hours=hour),
            )
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

    days = report["by_day"]
    in_range = CheckIn.objects.filter(patient=patient, local_date__range=(start, end)).count()
    assert len(days) == (end - start).days + 1
    assert report["expected_sessions"] == sum(d["expected"] for d in days)
    assert report["completed_sessions"] == sum(d["completed"] for d in days)
    assert all(0 <= d["completed"] <= d["expected"] <= 2 for d in days)
    assert report["completed_sessions"] + report["extra_sessions"] == in_range
    assert report["days_with_session"] <= report["active_days"] <= len(days)
    assert report["current_streak_days"] <= report["active_days"]
    assert report["night_sessions"] <= report["extra_sessions"]
    if report["expected_sessions"]:
        assert 0 <= report["adherence_pct"] <= 100
