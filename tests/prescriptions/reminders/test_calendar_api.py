"""me/calendar/: a secret iCalendar feed of the patient's reminder times."""

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.factories import PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

# 20 October 2024 in New York: clocks fall back on 3 November, inside the feed's 92 days.
NOW = datetime(2024, 10, 20, 16, 0, tzinfo=UTC)


@pytest.fixture
def prescription(patient_a):
    return PrescriptionFactory(
        patient=patient_a,
        start_date=date(2024, 10, 1),
        slots=[("morning", "07:00"), ("bedtime", "22:30")],
        heat_prep=True,
    )


def feed_url(patient):
    return client_for(patient.user).get("/api/v1/me/calendar/").json()["url"]


def read_feed(url):
    response = APIClient().get(url)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def events(calendar):
    return [
        (
            event.decoded("dtstart").astimezone(UTC),
            event["dtstart"].params["TZID"],
            str(event["summary"]),
        )
        for event in calendar.walk("VEVENT")
    ]


def schedule(patient, prescription, first, last):
    response = client_for(patient.user).get(
        f"/api/v1/prescriptions/{prescription.id}/schedule/?from={first}&to={last}"
    )
    return [datetime.fromisoformat(row["fire_at"]) for row in response.json()]


def test_it_holds_the_same_instants_as_the_schedule_across_a_clock_change(patient_a, prescription):
    calendar = read_feed(feed_url(patient_a))

    today = date(2024, 10, 20)
    expected = schedule(patient_a, prescription, today, today + timedelta(days=91)) + schedule(
        patient_a, prescription, today + timedelta(days=92), today + timedelta(days=92)
    )
    found = events(calendar)
    assert sorted(instant for instant, _, _ in found) == expected
    assert {zone for _, zone, _ in found} == {"America/New_York"}
    # The same wall-clock time on both sides of the change: 07:00 EDT, then 07:00 EST.
    starts = {event.decoded("dtstart") for event in calendar.walk("VEVENT")}
    assert datetime(2024, 11, 2, 11, 0, tzinfo=UTC) in expected
    assert datetime(2024, 11, 4, 12, 0, tzinfo=UTC) in expected
    assert {start.strftime("%H:%M") for start in starts} == {"07:00", "22:20"}
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "America/New_York"


def test_it_names_the_heat_before_bedtime(patient_a, prescription):
    summaries = {summary for _, _, summary in events(read_feed(feed_url(patient_a)))}

    assert summaries == {"Knee rocks: morning session", "Heat, then knee rocks: bedtime session"}


def test_it_follows_the_prescription_when_it_ends(patient_a, prescription, clinician_a):
    url = feed_url(patient_a)
    client_for(clinician_a).patch(
        f"/api/v1/prescriptions/{prescription.id}/", {"end_date": "2024-10-22"}, format="json"
    )

    found = events(read_feed(url))

    assert max(instant for instant, _, _ in found) == datetime(2024, 10, 23, 2, 20, tzinfo=UTC)
    client_for(clinician_a).post(f"/api/v1/prescriptions/{prescription.id}/end/")
    # Only this morning's session, before the end, is left.
    assert [instant for instant, _, _ in events(read_feed(url))] == [
        datetime(2024, 10, 20, 11, 0, tzinfo=UTC)
    ]


def test_it_kills_the_old_address_on_reset(patient_a, prescription):
    old = feed_url(patient_a)

    response = client_for(patient_a.user).post("/api/v1/me/calendar/reset/")

    assert response.status_code == 200
    new = response.json()["url"]
    assert new != old
    assert APIClient().get(old).status_code == 404
    assert events(read_feed(new))
    assert feed_url(patient_a) == new


def test_it_answers_404_to_a_forged_or_other_address(patient_a, other_patient, prescription):
    url = feed_url(patient_a)
    forged = url.replace(f"/cal/{patient_a.id}-", f"/cal/{other_patient.id}-")

    assert forged != url
    assert APIClient().get(forged).status_code == 404
    assert APIClient().get(url[:-8] + "xxxx.ics").status_code == 404


def test_it_is_for_patients_only(clinician_a, staff_a):
    for user in (clinician_a, staff_a):
        assert client_for(user).get("/api/v1/me/calendar/").status_code == 403
        assert client_for(user).post("/api/v1/me/calendar/reset/").status_code == 403


def test_it_reads_the_feed_in_the_same_queries_however_many_prescriptions(
    patient_a, prescription, django_assert_num_queries
):
    url = feed_url(patient_a)
    client = APIClient()
    with django_assert_num_queries(5) as one:
        client.get(url)
    PrescriptionFactory(
        patient=patient_a, start_date=date(2024, 9, 1), end_date=date(2024, 9, 30), heat_prep=True
    )

    with django_assert_num_queries(len(one.captured_queries)):
        client.get(url)
