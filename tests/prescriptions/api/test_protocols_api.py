import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from prescriptions.models import Protocol
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_it_describes_knee_rocks_to_every_role(clinician_a, staff_a, patient_a):
    for user in (clinician_a, staff_a, patient_a.user):
        response = client_for(user).get("/api/v1/protocols/knee-rocks/")

        assert response.status_code == 200
        body = response.data
        assert body["slug"] == "knee-rocks"
        assert body["steps"] and body["cautions"]
        assert body["default_slots"] == [
            {"kind": "morning", "time": "07:00"},
            {"kind": "bedtime", "time": "22:00"},
        ]
        assert (body["range_limit_degrees"], body["heat_prep_minutes"]) == (45, 10)
        assert body["version"] >= 1


def test_it_lists_the_protocols(patient_a):
    body = client_for(patient_a.user).get("/api/v1/protocols/").data

    assert [row["slug"] for row in body["results"]] == ["knee-rocks"]


def test_it_answers_404_for_an_unknown_slug(patient_a):
    assert client_for(patient_a.user).get("/api/v1/protocols/squats/").status_code == 404


def test_it_is_read_only(clinician_a):
    client = client_for(clinician_a)

    assert client.post("/api/v1/protocols/", {"slug": "x"}).status_code in (403, 405)
    assert client.patch("/api/v1/protocols/knee-rocks/", {"name": "x"}).status_code in (403, 405)


def test_it_needs_credentials(anon):
    assert anon.get("/api/v1/protocols/").status_code == 401


@pytest.mark.parametrize("rows", [2, 20])
def test_it_lists_in_a_constant_number_of_queries(patient_a, rows):
    for n in range(rows - 1):  # knee-rocks is already there
        Protocol.objects.create(
            slug=f"protocol-{n}",
            name="Test",
            summary="",
            range_limit_degrees=1,
            heat_prep_minutes=0,
        )
    client = client_for(patient_a.user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/protocols/", {"page_size": 100})

    assert response.data["count"] == rows
    assert len(queries) == 4  # token, user, count, page
