"""The check-in page a reminder's link opens, without signing in."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from prescriptions.models import Alert, CheckIn, Prescription, Reminder
from prescriptions.reminders import links
from tests.factories import CheckInFactory, PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

# 07:10 in New York on 3 June 2024, just after the morning reminder.
NOW = MORNING = datetime(2024, 6, 3, 11, 10, tzinfo=UTC)


@pytest.fixture
def reminder(patient_a):
    prescription = PrescriptionFactory(patient=patient_a, start_date=date(2024, 6, 1))
    return Reminder.objects.create(
        prescription=prescription,
        slot="morning",
        local_date=date(2024, 6, 3),
        fire_at=MORNING - timedelta(minutes=10),
        channel="email",
        status="sent",
    )


def url(reminder):
    return f"/c/{links.checkin_token(reminder.id)}/"


def submit(reminder, **fields):
    body = {"pain_before": 6, "pain_after": 3, **fields}
    # Without the page's cookie: the signed link alone must be enough.
    return Client(enforce_csrf_checks=True).post(url(reminder), body)


def test_it_opens_the_form_for_the_session_without_signing_in(reminder):
    response = Client().get(url(reminder))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Hi Ada, how did your morning session go?" in page
    assert 'name="pain_before"' in page
    assert "Numbness or tingling between your legs" in page


def test_it_stores_one_check_in_that_completes_the_session(reminder):
    response = submit(reminder, heat_used="on")

    assert response.status_code == 200
    assert "Your morning session is saved" in response.content.decode()
    checkin = CheckIn.objects.get()
    assert (checkin.prescription, checkin.slot, checkin.local_date) == (
        reminder.prescription,
        "morning",
        date(2024, 6, 3),
    )
    assert (checkin.pain_before, checkin.pain_after, checkin.heat_used) == (6, 3, True)
    assert checkin.performed_at == MORNING


def test_it_stores_nothing_more_on_a_second_submit_and_says_already_done(reminder):
    submit(reminder)

    again = submit(reminder, pain_before=9)
    opened = Client().get(url(reminder))

    assert CheckIn.objects.count() == 1
    for response in (again, opened):
        assert "Already done" in response.content.decode()


def test_it_counts_a_check_in_made_another_way_as_done(reminder):
    CheckInFactory(prescription=reminder.prescription, slot="morning", performed_at=MORNING)

    assert "Already done" in Client().get(url(reminder)).content.decode()
    assert submit(reminder).status_code == 200
    assert CheckIn.objects.count() == 1


def test_it_refuses_an_expired_link_kindly_and_stores_nothing(reminder, frozen_clock):
    frozen_clock.move_to(datetime(2024, 6, 4, 4, 5, tzinfo=UTC))  # 00:05 the next day

    opened = Client().get(url(reminder))
    posted = submit(reminder)

    for response in (opened, posted):
        assert response.status_code == 200
        assert "This link has run out" in response.content.decode()
        assert "Nothing has been saved" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_it_keeps_a_bedtime_link_open_past_midnight_until_the_late_bedtime_cutoff(
    reminder, frozen_clock
):
    Reminder.objects.filter(id=reminder.id).update(slot="bedtime")
    frozen_clock.move_to(datetime(2024, 6, 4, 5, 30, tzinfo=UTC))  # 01:30 the next day

    submit(reminder)

    assert CheckIn.objects.get().local_date == date(2024, 6, 3)


@pytest.mark.parametrize(
    "token",
    [
        "1.forged-signature-xxxxxxxxxxxxx",
        "garbage",
        links.stop_token(1),  # signed, but for another purpose
    ],
)
def test_it_refuses_a_forged_link_and_stores_nothing(reminder, token):
    opened = Client().get(f"/c/{token}/")
    posted = Client().post(f"/c/{token}/", {"pain_before": 2})

    for response in (opened, posted):
        assert "We could not open this link" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_it_never_opens_another_patients_session(reminder, other_patient):
    rx = PrescriptionFactory(patient=other_patient, start_date=date(2024, 6, 1))
    theirs = Reminder.objects.create(
        prescription=rx, slot="morning", local_date=date(2024, 6, 3), fire_at=MORNING
    )
    forged = url(reminder).replace(f"/c/{reminder.id}.", f"/c/{theirs.id}.")
    assert forged != url(reminder)

    submit_to = Client().post(forged, {"pain_before": 2})

    assert "We could not open this link" in submit_to.content.decode()
    assert not CheckIn.objects.exists()


def test_it_asks_again_for_the_pain_before_without_storing(reminder):
    response = Client().post(url(reminder), {"pain_after": 3})

    assert response.status_code == 400
    assert "Choose how much it hurt before" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_it_shows_stop_and_seek_care_and_pauses_on_a_warning_sign(reminder):
    response = submit(reminder, red_flags=["leg_weakness"])

    page = response.content.decode()
    assert "Stop the exercise and get checked" in page
    assert "contact your clinic or your doctor today" in page
    reminder.prescription.refresh_from_db()
    assert reminder.prescription.status == Prescription.Status.PAUSED
    assert Alert.objects.get().kind == "red_flag"


def test_it_uses_emergency_wording_for_saddle_numbness(reminder):
    page = submit(reminder, red_flags=["numbness_groin"]).content.decode()

    assert "Get urgent care now" in page
    assert "emergency number" in page


def test_it_serves_no_inline_script_or_style(reminder):
    for response in (Client().get(url(reminder)), submit(reminder)):
        page = response.content.decode()
        assert "<script" not in page
        assert "<style" not in page
        assert "style=" not in page
