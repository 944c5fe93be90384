"""The current prescription's SQL (current_sql.py), as the pages read it, against the
Python oracle, on random courses around the patient's today: running, to come, ended by
hand or past their end date, several sharing a start."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prescriptions.adherence import current_of, prescription_states, with_current
from prescriptions.models import Prescription
from prescriptions.schedule import local_today
from tests.factories import PatientFactory, PrescriptionFactory
from tests.prescriptions.adherence.oracle import current_oracle

TODAY = date(2026, 5, 10)
# 11:30 UTC: still 9 May at UTC-12, already 11 May at UTC+14.
NOW = datetime(2026, 5, 10, 11, 30, tzinfo=UTC)
ZONES = ["Etc/GMT+12", "Europe/London", "Pacific/Kiritimati"]

courses = st.lists(
    st.tuples(
        st.integers(min_value=-6, max_value=6),  # its start, in days from today
        st.one_of(st.none(), st.integers(min_value=0, max_value=6)),  # days after, if it ends
        st.sampled_from(list(Prescription.Status)),
    ),
    max_size=5,
)
examples = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def prescribed(patient, courses, today: date) -> list[Prescription]:
    return [
        PrescriptionFactory(
            patient=patient,
            start_date=today + timedelta(days=start),
            end_date=None if lasts is None else today + timedelta(days=start + lasts),
            status=status,
        )
        for start, lasts, status in courses
    ]


@pytest.mark.django_db
@examples
@given(courses=courses)
def test_it_picks_and_flags_what_the_oracle_picks(clinic_a, courses):
    patient = PatientFactory(clinic=clinic_a)
    expected = current_oracle(prescribed(patient, courses, TODAY), TODAY)

    assert current_of(patient.prescriptions.all(), TODAY) == expected
    flagged = [rx for rx in with_current(patient.prescriptions.all(), TODAY) if rx.is_current]
    assert flagged == ([] if expected is None else [expected])


@pytest.mark.django_db
@examples
@given(courses=st.tuples(courses, courses, courses))
def test_it_picks_each_patients_on_their_own_today_in_one_read(clinic_a, courses):
    patients = [PatientFactory(clinic=clinic_a, timezone=zone) for zone in ZONES]
    expected = {}
    for patient, theirs in zip(patients, courses, strict=True):
        today = local_today(patient.zone, NOW)
        current = current_oracle(prescribed(patient, theirs, today), today)
        if current is not None:
            expected[patient.id] = current.id

    states = prescription_states([p.id for p in patients], NOW)

    assert {patient: state["id"] for patient, state in states.items()} == expected
