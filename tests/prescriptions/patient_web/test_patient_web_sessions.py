"""Today's sessions on the patient's side: the web form's "Which session?" starts at the one
next due, and a spent check-in link says what is still due today, in the patient's zone."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from prescriptions.models import Reminder
from prescriptions.patient_web import day as patient_day
from prescriptions.reminders import links
from tests.conftest import signed_in
from tests.factories import CheckInFactory, PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

# New York (EDT, UTC-4) on 10 June 2024; the plan: morning 11:30, bedtime 17:45.
NOW = datetime(2024, 6, 10, 16, 10, tzinfo=UTC)  # 12:10 in New York
NEW_YORK = ZoneInfo("America/New_York")


def ny(hour, minute=0, day=10):
    return datetime(2024, 6, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


@pytest.fixture
def rx(patient_a):
    return PrescriptionFactory(
        patient=patient_a,
        start_date=date(2024, 6, 1),
        slots=[("morning", "11:30"), ("bedtime", "17:45")],
    )


def selected_slot(patient) -> str:
    page = signed_in(patient.user).get("/my/").content.decode()
    return re.search(r'<option value="(\w+)" selected>', page).group(1)


# --- The pure rules ----------------------------------------------------------------------


def session(kind, at, done=False):
    return patient_day.Session(kind, at, done)


def test_next_due_is_the_first_not_done_still_ahead_or_just_gone_by():
    morning, bedtime = session("morning", ny(7)), session("bedtime", ny(22))

    assert patient_day.next_due([morning, bedtime], ny(6)) == "morning"
    assert patient_day.next_due([morning, bedtime], ny(9, 59)) == "morning"  # late, still it
    assert patient_day.next_due([morning, bedtime], ny(10, 1)) == "bedtime"  # gone by
    assert patient_day.next_due([morning, bedtime], ny(21, 50)) == "bedtime"  # heat first
    done = session("bedtime", ny(22), done=True)
    assert patient_day.next_due([morning, done], ny(22, 30)) is None


def test_still_due_says_which_are_ahead():
    sessions = [session("morning", ny(7)), session("bedtime", ny(22))]

    assert patient_day.still_due(sessions, ny(12)) == [
        {"kind": "morning", "due_at": ny(7), "ahead": False},
        {"kind": "bedtime", "due_at": ny(22), "ahead": True},
    ]
    assert patient_day.still_due([session("morning", ny(7), done=True)], ny(12)) == []


# --- Read from the ledger -----------------------------------------------------------------


def test_sessions_now_reads_the_plan_and_what_is_done(rx, patient_a):
    CheckInFactory(prescription=rx, slot="morning", performed_at=ny(11, 40))

    assert patient_day.sessions_now(patient_a) == [
        patient_day.Session("morning", ny(11, 30), True),
        patient_day.Session("bedtime", ny(17, 45), False),
    ]


def test_a_paused_plan_has_nothing_due(patient_a):
    PrescriptionFactory(
        patient=patient_a, start_date=date(2024, 6, 1), paused=True, paused_at=ny(6)
    )

    assert patient_day.sessions_now(patient_a) == []


# --- The web form's default ---------------------------------------------------------------


def test_the_form_starts_at_the_morning_session_checked_in_late(rx, patient_a):
    assert selected_slot(patient_a) == "morning"  # by the hour alone, 12:10 read "other"


def test_the_form_starts_at_the_bedtime_session_once_the_morning_is_done(rx, patient_a):
    CheckInFactory(prescription=rx, slot="morning", performed_at=ny(11, 40))

    assert selected_slot(patient_a) == "bedtime"


def test_the_form_falls_back_to_the_hour_when_nothing_is_due(rx, patient_a, frozen_clock):
    for slot, at in (("morning", ny(11, 40)), ("bedtime", ny(17, 50))):
        CheckInFactory(prescription=rx, slot=slot, performed_at=at)
    frozen_clock.move_to(ny(19))

    assert selected_slot(patient_a) == "bedtime"


# --- The check-in link's page once the session is done ----------------------------------


def morning_link(rx) -> str:
    reminder = Reminder.objects.create(
        prescription=rx,
        slot="morning",
        local_date=date(2024, 6, 10),
        fire_at=ny(11, 30),
        channel="email",
        status="sent",
    )
    return f"/c/{links.checkin_token(reminder.id)}/"


def test_the_done_page_names_the_session_still_to_come_today(rx):
    link = morning_link(rx)

    saved = Client().post(link, {"pain_before": 5}).content.decode()
    again = Client().get(link).content.decode()

    expected = "Your bedtime session at 17:45 New York time is still to come today."
    assert expected in saved
    assert "Already done" in again and expected in again


def test_the_done_page_says_when_nothing_else_is_due(rx, frozen_clock):
    link = morning_link(rx)
    Client().post(link, {"pain_before": 5})
    CheckInFactory(prescription=rx, slot="bedtime", performed_at=ny(12, 0))  # done early

    page = Client().get(link).content.decode()

    assert "Nothing else is due today." in page
    assert "still to come" not in page


def test_the_done_page_names_a_session_gone_by_unchecked(rx, frozen_clock):
    link = morning_link(rx)
    CheckInFactory(prescription=rx, slot="morning", performed_at=ny(11, 40))
    frozen_clock.move_to(ny(19))

    page = Client().get(link).content.decode()

    assert "Your bedtime session of 17:45 New York time is not checked in yet" in page
