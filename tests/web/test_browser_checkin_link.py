"""A reminder's check-in link on a phone, in a real browser."""

import re
from datetime import UTC, date, timedelta

from django.core import mail
from django.test import TestCase
from django.utils import timezone

from prescriptions.models import CheckIn, Prescription, Reminder
from prescriptions.reminders import links
from prescriptions.reminders.tick import reminders_tick
from prescriptions.schedule import checkin_local_date
from prescriptions.tasks import deliver_reminders
from tests.factories import PrescriptionFactory
from tests.prescriptions.reminders_support import scheduled_prescription


def todays_reminder(patient, slot="morning"):
    """A reminder sent a minute ago for the session a check-in made now counts for."""
    now = timezone.now()
    prescription = PrescriptionFactory(patient=patient, start_date=date(2024, 1, 1))
    return Reminder.objects.create(
        prescription=prescription,
        slot=slot,
        local_date=checkin_local_date(now, patient.zone, slot),
        fire_at=now - timedelta(minutes=1),
        channel="email",
        status="sent",
    )


def tap(page, scale: str, value: int):
    page.get_by_role("group", name=scale).get_by_text(str(value), exact=True).click()


def zone_near_noon() -> str:
    """A zone where it is now around midday, so the session's day cannot end mid-test."""
    hours = 12 - timezone.now().astimezone(UTC).hour  # -11 … +12
    return f"Etc/GMT{-hours:+d}"  # POSIX signs: Etc/GMT-5 is five hours ahead of UTC


def emailed_link(patient) -> tuple[Reminder, str]:
    """Lets a slot fall due a minute ago and the tick email it; answers the link's path."""
    patient.timezone = zone_near_noon()
    patient.save()
    due = (timezone.now() - timedelta(minutes=1)).astimezone(patient.zone)
    scheduled_prescription(
        patient, start_date=due.date() - timedelta(days=1), slots=[("morning", f"{due:%H:%M}")]
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        reminders_tick(deliver=deliver_reminders.delay)
    [message] = mail.outbox
    return Reminder.objects.get(), re.search(r"https?://[^/\s]+(/c/\S+/)", message.body).group(1)


def test_it_checks_in_from_the_reminder_link_with_two_taps_at_390_px(phone_page, patient_a):
    reminder, link = emailed_link(patient_a)
    refused = []  # what the content security policy blocked, as the browser reports it
    phone_page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and refused.append(message.text),
    )

    phone_page.goto(link)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    tap(phone_page, "How much did your back hurt before?", 6)
    tap(phone_page, "And after the rocking?", 3)
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Save my check-in").click()

    assert phone_page.get_by_text("Your morning session is saved").is_visible()
    checkin = CheckIn.objects.get()
    assert (checkin.slot, checkin.local_date, checkin.pain_before, checkin.pain_after) == (
        "morning",
        reminder.local_date,
        6,
        3,
    )
    phone_page.goto(link)
    assert phone_page.get_by_text("Already done").is_visible()
    assert CheckIn.objects.count() == 1
    assert refused == []


def test_it_works_by_keyboard_alone(phone_page, patient_a):
    reminder = todays_reminder(patient_a)
    phone_page.goto(f"/c/{links.checkin_token(reminder.id)}/")

    phone_page.get_by_label("4", exact=True).first.focus()
    phone_page.keyboard.press("Space")  # chooses 4
    phone_page.keyboard.press("ArrowRight")  # moves the choice to 5, as radio buttons do
    with phone_page.expect_navigation():
        phone_page.keyboard.press("Enter")  # submits the form
    assert phone_page.get_by_text("Your morning session is saved").is_visible()
    assert CheckIn.objects.get().pain_before == 5


def test_it_shows_stop_and_seek_care_and_pauses_on_a_warning_sign(phone_page, patient_a):
    reminder = todays_reminder(patient_a, slot="bedtime")
    phone_page.goto(f"/c/{links.checkin_token(reminder.id)}/")

    tap(phone_page, "How much did your back hurt before?", 7)
    phone_page.get_by_label("A leg that feels newly weak or gives way").check()
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Save my check-in").click()

    alert = phone_page.get_by_role("alert")
    assert alert.get_by_role("heading", name="Stop the exercise and get checked").is_visible()
    reminder.prescription.refresh_from_db()
    assert reminder.prescription.status == Prescription.Status.PAUSED


def test_it_shows_a_kind_page_for_a_forged_link(phone_page, patient_a):
    reminder = todays_reminder(patient_a)
    token = links.checkin_token(reminder.id)

    phone_page.goto(f"/c/{token[:-3]}abc/")

    assert phone_page.get_by_text("We could not open this link").is_visible()
    assert phone_page.get_by_text("Nothing has been saved").is_visible()
    assert not CheckIn.objects.exists()
