"""GET reminders/: who sees which reminders, filters, pagination."""

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, transaction

from prescriptions.models import Reminder
from tests.conftest import client_for
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db


def reminder(prescription, day=3, slot="morning", status="sent"):
    return Reminder.objects.create(
        prescription=prescription,
        slot=slot,
        local_date=date(2024, 6, day),
        fire_at=datetime(2024, 6, day, 11, tzinfo=UTC),
        channel="email",
        status=status,
        sent_at=datetime(2024, 6, day, 11, tzinfo=UTC) if status == "sent" else None,
        reason="" if status == "sent" else "inside the patient's quiet hours",
    )


@pytest.fixture
def mine(patient_a):
    return PrescriptionFactory(patient=patient_a)


@pytest.fixture
def neighbours(other_patient):
    return PrescriptionFactory(patient=other_patient)


@pytest.fixture
def elsewhere(patient_b):
    return PrescriptionFactory(patient=patient_b)


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_it_shows_the_patient_only_their_own_reminders(mine, neighbours, patient_a):
    own = reminder(mine)
    reminder(neighbours)

    assert ids(client_for(patient_a.user).get("/api/v1/reminders/")) == {own.id}


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a"])
def test_it_shows_the_clinic_team_their_clinics_reminders(
    mine, neighbours, elsewhere, persona, request
):
    ours = {reminder(mine).id, reminder(neighbours).id}
    reminder(elsewhere)

    assert ids(client_for(request.getfixturevalue(persona)).get("/api/v1/reminders/")) == ours


def test_it_answers_the_contract_fields(mine, patient_a):
    sent = reminder(mine)

    [row] = client_for(patient_a.user).get("/api/v1/reminders/").json()["results"]

    assert row == {
        "id": sent.id,
        "prescription": mine.id,
        "slot": "morning",
        "local_date": "2024-06-03",
        "fire_at": "2024-06-03T11:00:00Z",
        "channel": "email",
        "status": "sent",
        "sent_at": "2024-06-03T11:00:00Z",
        "reason": "",
    }


def test_it_filters_by_prescription_status_and_local_dates(mine, neighbours, clinician_a):
    wanted = reminder(mine, day=4, status="skipped")
    reminder(mine, day=4, slot="bedtime")
    reminder(mine, day=2, status="skipped")
    reminder(neighbours, day=4, status="skipped")

    response = client_for(clinician_a).get(
        f"/api/v1/reminders/?prescription={mine.id}&status=skipped&from=2024-06-03&to=2024-06-05"
    )

    assert ids(response) == {wanted.id}


def test_it_filters_by_patient(mine, neighbours, other_patient, clinician_a):
    reminder(mine)
    theirs = reminder(neighbours)

    response = client_for(clinician_a).get(f"/api/v1/reminders/?patient={other_patient.id}")

    assert ids(response) == {theirs.id}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("patient=abc", "patient"),
        ("patient=0", "patient"),
        ("from=2024-06-05&to=2024-06-03", "from"),
        ("status=lost", "status"),
        ("from=soon", "from"),
        ("prescription=abc", "prescription"),
        ("prescription=2.8e295", "prescription"),
    ],
)
def test_it_refuses_a_bad_filter_naming_it(mine, clinician_a, query, field):
    response = client_for(clinician_a).get(f"/api/v1/reminders/?{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_it_pages_newest_first(mine, patient_a):
    made = [reminder(mine, day=day) for day in range(1, 6)]

    page = client_for(patient_a.user).get("/api/v1/reminders/?page_size=2").json()

    assert page["count"] == 5
    assert [row["id"] for row in page["results"]] == [made[4].id, made[3].id]
    assert page["next"]


def test_it_asks_for_credentials(anon):
    assert anon.get("/api/v1/reminders/").status_code == 401


def test_it_runs_a_constant_number_of_queries(mine, clinician_a, django_assert_num_queries):
    for day in range(1, 30):
        reminder(mine, day=day)
        reminder(mine, day=day, slot="bedtime", status="skipped")
    client = client_for(clinician_a)

    with django_assert_num_queries(4 + 1):  # + the audit entries, one insert
        client.get("/api/v1/reminders/?page_size=100")


def test_it_keeps_at_most_one_reminder_per_slot_and_day(mine):
    reminder(mine)

    with pytest.raises(IntegrityError), transaction.atomic():
        reminder(mine, status="skipped")
