"""GET prescriptions/{id}/schedule/: reminder times over a range of local dates."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.conftest import client_for
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db


def url(prescription, query="from=2024-03-09&to=2024-03-11"):
    return f"/api/v1/prescriptions/{prescription.id}/schedule/?{query}"


@pytest.fixture
def prescription(patient_a):
    return PrescriptionFactory(
        patient=patient_a,
        start_date=date(2024, 3, 1),
        slots=[("morning", "02:30"), ("bedtime", "22:00")],
        heat_prep=True,
    )


def test_it_lists_each_reminder_with_its_utc_instant_across_spring_forward(
    prescription, clinician_a
):
    response = client_for(clinician_a).get(url(prescription))

    assert response.status_code == 200
    assert response.json() == [
        {"slot": "morning", "local_date": "2024-03-09", "fire_at": "2024-03-09T07:30:00Z"},
        {"slot": "bedtime", "local_date": "2024-03-09", "fire_at": "2024-03-10T02:50:00Z"},
        # 02:30 does not exist that day: read with the offset before the change.
        {"slot": "morning", "local_date": "2024-03-10", "fire_at": "2024-03-10T07:30:00Z"},
        {"slot": "bedtime", "local_date": "2024-03-10", "fire_at": "2024-03-11T01:50:00Z"},
        {"slot": "morning", "local_date": "2024-03-11", "fire_at": "2024-03-11T06:30:00Z"},
        {"slot": "bedtime", "local_date": "2024-03-11", "fire_at": "2024-03-12T01:50:00Z"},
    ]


def test_it_lists_nothing_on_paused_days(prescription, clinician_a):
    client = client_for(clinician_a)
    with time_machine.travel(datetime(2024, 3, 20, tzinfo=UTC)):
        client.post(
            f"/api/v1/prescriptions/{prescription.id}/pause/",
            {"effective": "2024-03-09T12:00:00-05:00"},
        )

    response = client.get(url(prescription))

    assert [(e["slot"], e["local_date"]) for e in response.json()] == [("morning", "2024-03-09")]


def test_it_shows_the_patient_their_own_schedule(prescription, patient_a):
    response = client_for(patient_a.user).get(url(prescription))

    assert response.status_code == 200
    assert len(response.json()) == 6


def test_it_shows_staff_of_the_clinic_the_schedule(prescription, staff_a):
    assert client_for(staff_a).get(url(prescription)).status_code == 200


@pytest.mark.parametrize("persona", ["clinician_b", "other_patient"])
def test_it_hides_the_schedule_from_anyone_outside_reach(prescription, persona, request):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)

    assert client_for(user).get(url(prescription)).status_code == 404


def test_it_asks_for_credentials(prescription, anon):
    assert anon.get(url(prescription)).status_code == 401


def test_it_accepts_92_dates_both_ends_included(prescription, clinician_a):
    response = client_for(clinician_a).get(url(prescription, "from=2024-03-01&to=2024-05-31"))

    assert response.status_code == 200
    assert len({e["local_date"] for e in response.json()}) == 92


def test_it_refuses_more_than_92_dates(prescription, clinician_a):
    response = client_for(clinician_a).get(url(prescription, "from=2024-03-01&to=2024-06-01"))

    assert response.status_code == 400
    assert "to" in response.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2024-03-10&to=2024-03-09", "to"),
        ("from=yesterday", "from"),
        ("to=2024-13-01", "to"),
        ("from=9999-12-25&to=9999-12-31", "from"),
        ("from=9999-12-31", "from"),
        ("to=0001-01-01", "to"),
    ],
)
def test_it_refuses_bad_dates_naming_the_field(prescription, clinician_a, query, field):
    response = client_for(clinician_a).get(url(prescription, query))

    assert response.status_code == 400
    assert field in response.json()


def test_it_defaults_to_the_coming_week_in_the_patients_zone(prescription, clinician_a):
    with time_machine.travel(datetime(2024, 4, 2, 3, 0, tzinfo=UTC)):  # 1 April in New York
        response = client_for(clinician_a).get(url(prescription, ""))

    dates = sorted({e["local_date"] for e in response.json()})
    assert (dates[0], dates[-1], len(dates)) == ("2024-04-01", "2024-04-07", 7)


def test_it_runs_a_constant_number_of_queries(prescription, clinician_a, django_assert_num_queries):
    client = client_for(clinician_a)

    with django_assert_num_queries(5 + 1):  # + the audit entry
        client.get(url(prescription, "from=2024-03-01&to=2024-05-31"))
