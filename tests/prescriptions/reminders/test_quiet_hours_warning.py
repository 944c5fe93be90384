"""Quiet hours that leave no session a reminder are saved, with a warning on the page."""

from datetime import time

import pytest
from django.test import Client

from patients.models import ReminderPreference
from prescriptions.reminders.quiet_hours import quiet_hours_cover_every_slot, reminder_clock_time
from tests.factories import PASSWORD, PrescriptionFactory

T = time.fromisoformat
MORNING_AND_BEDTIME = [("morning", T("07:30")), ("bedtime", T("22:30"))]


@pytest.mark.parametrize(
    ("start", "end", "slots", "heat", "covered"),
    [
        ("21:00", "09:00", MORNING_AND_BEDTIME, 0, True),  # wraps past midnight
        ("23:00", "09:00", MORNING_AND_BEDTIME, 0, False),  # bedtime still reminded
        ("22:25", "08:00", MORNING_AND_BEDTIME, 0, True),
        ("22:25", "08:00", MORNING_AND_BEDTIME, 10, False),  # heat first: 22:20 is outside
        ("07:30", "07:31", [("morning", T("07:30"))], 0, True),  # the start is quiet
        ("07:00", "07:30", [("morning", T("07:30"))], 0, False),  # the end is not
        ("00:00", "23:59", MORNING_AND_BEDTIME, 0, True),
        (None, None, MORNING_AND_BEDTIME, 0, False),  # no quiet hours
        ("21:00", "09:00", [], 0, False),  # nothing to remind of
    ],
)
def test_it_tells_whether_every_reminder_falls_in_the_quiet_hours(start, end, slots, heat, covered):
    start, end = (T(start) if start else None), (T(end) if end else None)

    assert quiet_hours_cover_every_slot(start, end, slots, heat) is covered


def test_a_heat_first_bedtime_reminder_comes_early_even_across_midnight():
    assert reminder_clock_time("bedtime", T("22:30"), 10) == T("22:20")
    assert reminder_clock_time("bedtime", T("00:05"), 10) == T("23:55")
    assert reminder_clock_time("morning", T("07:30"), 10) == T("07:30")


@pytest.fixture
def patient_page(patient_a):
    PrescriptionFactory(patient=patient_a, slots=[("morning", "07:30"), ("bedtime", "22:30")])
    client = Client()
    client.post("/my/login/", {"email": patient_a.email, "password": PASSWORD})
    return client


@pytest.mark.django_db
def test_the_patients_page_saves_such_quiet_hours_and_warns(patient_page, patient_a):
    response = patient_page.post(
        "/my/reminders/", {"channel": "email", "quiet_start": "21:00", "quiet_end": "09:00"}
    )

    assert response.status_code == 302
    preference = ReminderPreference.objects.get(patient=patient_a)
    assert (preference.quiet_start, preference.quiet_end) == (T("21:00"), T("09:00"))
    page = patient_page.get("/my/").content.decode()
    assert 'id="quiet-hours-warning"' in page
    assert "no reminder will be sent" in page
    assert 'class="error"' not in page


@pytest.mark.django_db
def test_the_patients_page_says_nothing_when_a_session_is_still_reminded(patient_page):
    patient_page.post(
        "/my/reminders/", {"channel": "email", "quiet_start": "23:00", "quiet_end": "06:00"}
    )

    assert 'id="quiet-hours-warning"' not in patient_page.get("/my/").content.decode()
