"""On a 390 px phone: a patient answers the baseline from /my/, and two weeks later the
follow-up from the link in that day's reminder, signed out."""

import os
import re
from datetime import timedelta

from django.core import mail
from django.test import TestCase
from django.utils import timezone

from outcomes.models import QuestionnaireResponse
from outcomes.schedules import schedule_defaults_create
from patients.models import ReminderPreference
from prescriptions.models import Prescription
from prescriptions.reminders.tick import reminders_tick
from prescriptions.tasks import deliver_reminders
from tests.factories import PrescriptionFactory
from tests.web.test_browser_checkin_link import zone_near_noon
from tests.web.test_browser_patient_page import sign_in_patient

SHOTS = os.environ.get("SHOTS_DIR")  # set it to keep screenshots to look at


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_baseline_from_my_page_then_follow_up_from_the_reminder(phone_page, patient_a):
    patient_a.timezone = zone_near_noon()
    patient_a.save()
    ReminderPreference.objects.create(patient=patient_a)
    due = (timezone.now() - timedelta(minutes=1)).astimezone(patient_a.zone)
    prescription = PrescriptionFactory(
        patient=patient_a, start_date=due.date(), slots=[("morning", f"{due:%H:%M}")]
    )
    schedule_defaults_create(prescription)

    # Day 0, signed in: the card on /my/ leads to the baseline.
    sign_in_patient(phone_page, patient_a)
    phone_page.get_by_role("link", name="Answer “Patient-Specific Functional Scale”").click()
    phone_page.locator("#id_psfs-activity_1_label").fill("Putting on socks")
    phone_page.locator('[data-item="activity_1"]').get_by_text("3", exact=True).click()
    if SHOTS:
        phone_page.screenshot(path=f"{SHOTS}/psfs-baseline-390.png", full_page=True)
    assert fits(phone_page)
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Save my answers").click()
    assert phone_page.get_by_text("You rated putting on socks 3 at the start.").is_visible()

    # Two weeks on: the plan started 14 days ago, the baseline was answered then.
    Prescription.objects.filter(id=prescription.id).update(
        start_date=due.date() - timedelta(days=14)
    )
    QuestionnaireResponse.objects.update(answered_at=timezone.now() - timedelta(days=14))
    with TestCase.captureOnCommitCallbacks(execute=True):
        reminders_tick(deliver=deliver_reminders.delay)
    [message] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/q/\S+/)", message.body).group(1)

    phone_page.context.clear_cookies()  # the link opens signed out
    phone_page.goto(link)
    phone_page.get_by_text("About the same").click()  # the PGIC first, in words
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Save my answers").click()
    # The PSFS follow-up names the activity from the start; nothing to type.
    assert phone_page.get_by_text("Putting on socks").is_visible()
    assert phone_page.locator("input[type=text]").count() == 0
    phone_page.locator('[data-item="activity_1"]').get_by_text("7", exact=True).click()
    assert fits(phone_page)
    if SHOTS:
        phone_page.screenshot(path=f"{SHOTS}/psfs-follow-up-390.png", full_page=True)
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Save my answers").click()
    assert phone_page.get_by_text("Thank you, Ada").is_visible()

    scores = {r.questionnaire.slug: r.score for r in QuestionnaireResponse.objects.all()}
    assert QuestionnaireResponse.objects.count() == 3 and scores["pgic"] == 4
    sign_in_patient(phone_page, patient_a)
    assert phone_page.get_by_text("You rated putting on socks 3 at the start, 7 now.").is_visible()
    assert phone_page.get_by_text("Last time you said your back was about the same.").is_visible()
