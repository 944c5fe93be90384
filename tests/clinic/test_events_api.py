"""GET events/?after=: the clinic's events in the order they were written, by cursor, for
the clinic team only, ids only, in a constant number of queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic import events
from clinic.models import AuditEntry
from patients.services import patient_enrol, patient_update
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def write(clinic, n, start=1):
    return [
        events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic.id, patient=start + i).id
        for i in range(n)
    ]


def test_it_lists_the_clinics_events_in_order(clinic_a, clinician_a):
    ids = write(clinic_a, 3)

    response = client_for(clinician_a).get(URL)

    assert response.status_code == 200
    assert [e["id"] for e in response.data["results"]] == ids
    first = response.data["results"][0]
    assert set(first) == {"id", "type", "at", "data"}
    assert (first["type"], first["data"]) == ("patient.updated", {"patient": 1})
    assert response.data["next"] is None


def test_it_answers_the_events_after_the_cursor(clinic_a, staff_a):
    ids = write(clinic_a, 5)

    response = client_for(staff_a).get(URL, {"after": ids[1]})

    assert [e["id"] for e in response.data["results"]] == ids[2:]


def test_it_pages_by_cursor_with_a_next_link(clinic_a, clinician_a):
    ids = write(clinic_a, 5)
    client = client_for(clinician_a)

    seen, url, params = [], URL, {"page_size": 2}
    while url:
        page = client.get(url, params)
        assert page.status_code == 200
        seen += [e["id"] for e in page.data["results"]]
        url, params = page.data["next"], {}
    assert seen == ids


def test_an_event_written_after_a_poll_is_in_the_next_one(clinic_a, clinician_a):
    client = client_for(clinician_a)
    (first,) = write(clinic_a, 1)
    last = client.get(URL).data["results"][-1]["id"]
    (second,) = write(clinic_a, 1, start=9)

    assert [e["id"] for e in client.get(URL, {"after": last}).data["results"]] == [second]
    assert last == first


def test_another_clinics_events_never_appear(clinic_a, clinic_b, clinician_a, clinician_b):
    mine = write(clinic_a, 2)
    theirs = write(clinic_b, 2, start=50)

    assert [e["id"] for e in client_for(clinician_a).get(URL).data["results"]] == mine
    assert [e["id"] for e in client_for(clinician_b).get(URL).data["results"]] == theirs
    # Their cursor is no key to ours.
    assert client_for(clinician_b).get(URL, {"after": 0}).data["results"][0]["id"] == theirs[0]


def test_a_patient_is_refused(clinic_a, patient_a, anon):
    write(clinic_a, 1)
    assert client_for(patient_a.user).get(URL).status_code == 403
    assert anon.get(URL).status_code == 401


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "\u0661"])
def test_a_cursor_that_is_not_an_id_is_a_400(clinician_a, value):
    response = client_for(clinician_a).get(URL, {"after": value})
    assert response.status_code == 400


def test_a_page_size_out_of_range_is_a_400(clinician_a):
    assert client_for(clinician_a).get(URL, {"page_size": "501"}).status_code == 400


@pytest.mark.parametrize("count", [2, 20])
def test_it_answers_in_a_constant_number_of_queries(clinic_a, clinician_a, count):
    write(clinic_a, count)
    client = client_for(clinician_a)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert len(response.data["results"]) == count
    assert len(queries) == 4  # token, user, page, audit entries


def test_reading_the_feed_is_audited_for_the_patients_it_names(clinic_a, clinician_a):
    write(clinic_a, 2, start=7)
    client_for(clinician_a).get(URL)
    assert sorted(AuditEntry.objects.values_list("patient_id", "action")) == [
        (7, "read"),
        (8, "read"),
    ]


def test_the_feed_carries_ids_only(clinic_a, clinician_a):
    patient = patient_enrol(
        clinic=clinic_a,
        enrolled_by=clinician_a,
        first_name="Zephyrine",
        last_name="Quillfeather",
        email="zephyrine.q@example.test",
        phone="+1 555 0199",
    ).patient
    patient_update(patient=patient, timezone_name="Asia/Tokyo")

    body = client_for(clinician_a).get(URL).content.decode()

    for secret in ("Zephyrine", "Quillfeather", "zephyrine.q@", "555 0199", "Tokyo"):
        assert secret not in body
    for event in json.loads(body)["results"]:
        assert all(isinstance(v, int) for v in event["data"].values())
