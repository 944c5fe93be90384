import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outcomes.models import Questionnaire
from tests.conftest import client_for
from tests.outcomes.test_scoring import shipped

pytestmark = pytest.mark.django_db


def test_it_serves_the_psfs_to_every_role(clinician_a, staff_a, patient_a):
    for user in (clinician_a, staff_a, patient_a.user):
        body = client_for(user).get("/api/v1/questionnaires/psfs/").data

        assert body["slug"] == "psfs" and body["version"] == 1
        assert [item["id"] for item in body["items"]] == ["activity_1", "activity_2", "activity_3"]
        first = body["items"][0]
        assert (first["type"], first["min"], first["max"]) == ("integer", 0, 10)
        assert first["required"] is False and first["label"] is True
        assert body["scoring"] == {
            "method": "mean",
            "higher_is_better": True,
            "mcid": 2.0,
            "min": 0.0,
            "max": 10.0,
        }


def test_it_serves_the_pgic_as_seven_choices_where_lower_is_better(patient_a):
    body = client_for(patient_a.user).get("/api/v1/questionnaires/pgic/").data

    (item,) = body["items"]
    assert item["type"] == "choice" and item["required"] is True
    assert [o["value"] for o in item["options"]] == [1, 2, 3, 4, 5, 6, 7]
    assert body["scoring"]["method"] == "single"
    assert body["scoring"]["higher_is_better"] is False
    assert body["scoring"]["mcid"] is None


def test_it_lists_the_instruments(patient_a):
    body = client_for(patient_a.user).get("/api/v1/questionnaires/").data

    assert [row["slug"] for row in body["results"]] == ["pgic", "psfs"]


def test_it_answers_404_for_an_unknown_slug_and_401_signed_out(patient_a, anon):
    assert client_for(patient_a.user).get("/api/v1/questionnaires/odi/").status_code == 404
    assert anon.get("/api/v1/questionnaires/").status_code == 401


@pytest.mark.parametrize("rows", [2, 20])
def test_it_lists_in_a_constant_number_of_queries(patient_a, rows):
    psfs = Questionnaire.objects.get(slug="psfs")
    for n in range(rows - 2):
        psfs.pk, psfs.slug = None, f"copy-{n}"
        psfs.save()
    client = client_for(patient_a.user)

    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/questionnaires/", {"page_size": 100}).data

    assert body["count"] == rows
    assert len(queries) == 4  # token, user, count, page


@pytest.mark.parametrize("slug", ["psfs", "pgic"])
def test_the_migration_ships_each_instrument_as_its_file_defines_it(slug):
    assert Questionnaire.objects.get(slug=slug).instrument == shipped(slug)


@pytest.mark.parametrize("run", ["first", "after the first one's flush"])
@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_still_finds_the_shipped_instruments(run):
    # The flush after each transactional test empties every table; the instruments come back.
    assert set(Questionnaire.objects.values_list("slug", flat=True)) == {"pgic", "psfs"}
