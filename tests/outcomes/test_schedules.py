"""When questionnaires fall due: the schedule's dates by hand, what a response clears, the
patient's local date across a change of clock, and the API that reads and changes it."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from outcomes.models import QuestionnaireSchedule
from outcomes.schedules import DUE_FOR, due_questionnaires, last_scheduled
from outcomes.schedules import schedule_defaults_create as give_defaults
from prescriptions.models import Prescription, StatusChange
from prescriptions.services import prescription_create
from tests.conftest import client_for
from tests.factories import PrescriptionFactory, knee_rocks
from tests.outcomes.support import pgic, psfs, respond

pytestmark = pytest.mark.django_db

START = date(2024, 3, 1)


def when(today, *, first_day=0, every_days=14, at_end=True, end=None):
    return last_scheduled(
        start=START,
        end=end,
        today=today,
        first_day=first_day,
        every_days=every_days,
        at_end=at_end,
    )


def day(n: int) -> date:
    return START + timedelta(days=n)


@pytest.mark.parametrize(
    ("today", "expected"),
    [(-1, None), (0, 0), (13, 0), (14, 14), (27, 14), (28, 28), (41, 28)],
)
def test_it_schedules_the_psfs_at_the_start_and_every_14_days(today, expected):
    assert when(day(today)) == (None if expected is None else day(expected))


@pytest.mark.parametrize(("today", "expected"), [(0, None), (13, None), (14, 14), (30, 28)])
def test_it_schedules_the_pgic_every_14_days_from_day_14(today, expected):
    found = when(day(today), first_day=14)
    assert found == (None if expected is None else day(expected))


def test_it_asks_on_the_end_date_and_not_after_it():
    end = day(20)
    assert when(day(19), end=end) == day(14)
    assert when(day(20), end=end) == day(20)
    assert when(day(40), end=end) == day(20)  # no day 28: the plan was over by then
    assert when(day(20), end=end, at_end=False) == day(14)


def test_it_asks_once_when_there_is_no_repeat_and_only_at_the_end_without_a_first_day():
    assert when(day(30), every_days=None) == day(0)
    assert when(day(30), first_day=None, every_days=None, end=day(25)) == day(25)
    assert when(day(24), first_day=None, every_days=None, end=day(25)) is None


@pytest.fixture
def prescription(patient_a):
    prescription = PrescriptionFactory(patient=patient_a, start_date=START)
    give_defaults(prescription)
    return prescription


def due_now(patient, now):
    with time_machine.travel(now, tick=False):
        return [(d.questionnaire.slug, d.due_date) for d in due_questionnaires(patient)]


def noon(n: int) -> datetime:
    return datetime.combine(day(n), datetime.min.time(), tzinfo=UTC) + timedelta(hours=16)


def test_it_answers_the_baseline_on_day_0_and_both_on_day_14(prescription, patient_a):
    assert due_now(patient_a, noon(0)) == [("psfs", day(0))]
    assert due_now(patient_a, noon(14)) == [("pgic", day(14)), ("psfs", day(14))]


def test_a_response_clears_what_is_due_until_the_next_date(prescription, patient_a):
    respond(patient_a, "psfs", psfs(3, 5), noon(1))
    assert due_now(patient_a, noon(5)) == []
    respond(patient_a, "psfs", psfs(4, 5), noon(14))
    assert due_now(patient_a, noon(20)) == [("pgic", day(14))]
    respond(patient_a, "pgic", pgic(3), noon(20))
    assert due_now(patient_a, noon(27)) == []
    assert due_now(patient_a, noon(28)) == [("pgic", day(28)), ("psfs", day(28))]


def test_an_unanswered_date_stops_being_due_after_two_weeks(patient_a):
    prescription = PrescriptionFactory(patient=patient_a, start_date=START)
    QuestionnaireSchedule.objects.create(
        prescription=prescription, questionnaire_id=_id("psfs"), first_day=0
    )
    assert due_now(patient_a, noon(DUE_FOR.days - 1)) == [("psfs", day(0))]
    assert due_now(patient_a, noon(DUE_FOR.days)) == []


def _id(slug):
    from outcomes.models import Questionnaire

    return Questionnaire.objects.get(slug=slug).id


def test_an_ended_prescription_asks_both_on_the_day_it_ended(prescription, patient_a):
    Prescription.objects.filter(id=prescription.id).update(status=Prescription.Status.ENDED)
    StatusChange.objects.create(
        prescription=prescription,
        status=Prescription.Status.ENDED,
        effective_at=noon(20),
    )
    assert due_now(patient_a, noon(21)) == [("pgic", day(20)), ("psfs", day(20))]
    assert due_now(patient_a, noon(29)) == [("pgic", day(20)), ("psfs", day(20))]


def test_it_reads_the_due_date_in_the_patients_zone_across_a_change_of_clock(patient_a):
    # New York moves its clocks forward at 02:00 on 10 March 2024: day 14 of a plan started
    # on 26 February, 11 March, begins at 00:00 EDT (04:00 UTC), not 05:00 UTC as in winter.
    patient_a.timezone = "America/New_York"
    patient_a.save()
    prescription = PrescriptionFactory(patient=patient_a, start_date=date(2024, 2, 26))
    give_defaults(prescription)
    respond(patient_a, "psfs", psfs(3), datetime(2024, 2, 26, 15, tzinfo=UTC))
    eleven_march = date(2024, 3, 11)
    assert due_now(patient_a, datetime(2024, 3, 11, 3, 59, tzinfo=UTC)) == []
    assert due_now(patient_a, datetime(2024, 3, 11, 4, 30, tzinfo=UTC)) == [
        ("pgic", eleven_march),
        ("psfs", eleven_march),
    ]
    # Answered at 23:30 local on 11 March (03:30 UTC on the 12th): it counts for the 11th.
    respond(patient_a, "psfs", psfs(5), datetime(2024, 3, 12, 3, 30, tzinfo=UTC))
    assert due_now(patient_a, datetime(2024, 3, 12, 3, 45, tzinfo=UTC)) == [("pgic", eleven_march)]


def test_prescribing_gives_the_default_schedule(patient_a, clinician_a):
    prescription = prescription_create(
        patient=patient_a, clinician=clinician_a, protocol=knee_rocks(), start_date=START
    )
    rows = {
        r.questionnaire.slug: (r.first_day, r.every_days, r.at_end)
        for r in prescription.questionnaire_schedules.select_related("questionnaire")
    }
    assert rows == {"psfs": (0, 14, True), "pgic": (14, 14, True)}


# --- The API ---------------------------------------------------------------------------


def url(prescription):
    return f"/api/v1/prescriptions/{prescription.id}/questionnaires/"


def test_the_team_and_the_patient_read_the_schedule(prescription, clinician_a, staff_a, patient_a):
    for user in (clinician_a, staff_a, patient_a.user):
        response = client_for(user).get(url(prescription))
        assert response.status_code == 200
        assert response.json() == [
            {"questionnaire": "pgic", "first_day": 14, "every_days": 14, "at_end": True},
            {"questionnaire": "psfs", "first_day": 0, "every_days": 14, "at_end": True},
        ]


def test_a_clinician_replaces_the_schedule_whole(prescription, clinician_a, patient_a):
    response = client_for(clinician_a).put(
        url(prescription),
        [{"questionnaire": "psfs", "first_day": 0, "every_days": 7}],
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == [
        {"questionnaire": "psfs", "first_day": 0, "every_days": 7, "at_end": False}
    ]
    assert due_now(patient_a, noon(14)) == [("psfs", day(14))]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"questionnaire": "odi", "first_day": 0}], "questionnaire"),
        ([{"questionnaire": "psfs", "first_day": -1}], "first_day"),
        ([{"questionnaire": "psfs", "first_day": 0, "every_days": 0}], "every_days"),
        ([{"questionnaire": "psfs"}], "first_day"),
        ([{"questionnaire": "psfs", "first_day": 0, "often": 3}], "often"),
    ],
)
def test_a_bad_schedule_is_a_400_naming_the_field(prescription, clinician_a, body, field):
    response = client_for(clinician_a).put(url(prescription), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["0"]  # the entry's position, then its field
    assert prescription.questionnaire_schedules.count() == 2


def test_an_instrument_given_twice_is_a_400(prescription, clinician_a):
    body = [{"questionnaire": "psfs", "first_day": 0}, {"questionnaire": "psfs", "first_day": 7}]
    response = client_for(clinician_a).put(url(prescription), body, format="json")
    assert response.status_code == 400
    assert "psfs" in str(response.json())


def test_another_clinics_prescription_is_a_404(prescription, clinician_b):
    assert client_for(clinician_b).get(url(prescription)).status_code == 404


def test_me_questionnaires_answers_what_is_due(prescription, patient_a, other_patient):
    with time_machine.travel(noon(14), tick=False):
        response = client_for(patient_a.user).get("/api/v1/me/questionnaires/")
        assert response.json() == [
            {"questionnaire": "pgic", "due_date": "2024-03-15", "prescription": prescription.id},
            {"questionnaire": "psfs", "due_date": "2024-03-15", "prescription": prescription.id},
        ]
        assert client_for(other_patient.user).get("/api/v1/me/questionnaires/").json() == []


def test_what_is_due_takes_three_queries_however_many_prescriptions(
    patient_a, django_assert_num_queries
):
    for n in range(4):
        rx = PrescriptionFactory(
            patient=patient_a, start_date=START - timedelta(days=100 * n), end_date=day(20)
        )
        give_defaults(rx)
    respond(patient_a, "psfs", psfs(3), noon(1))
    with time_machine.travel(noon(14), tick=False), django_assert_num_queries(3):
        due = due_questionnaires(patient_a)
    assert [d.questionnaire.slug for d in due] == ["pgic", "psfs"]
