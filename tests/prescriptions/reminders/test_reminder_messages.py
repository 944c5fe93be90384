"""What a reminder says: name, session, a kind how-to, a check-in link, a way to stop."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from patients.models import ReminderPreference
from prescriptions.models import CheckIn, Reminder
from prescriptions.reminders import links
from prescriptions.reminders.messages import reminder_message
from prescriptions.reminders.transports.sms_length import sms_segments
from prescriptions.tasks import deliver_reminders
from tests.prescriptions.reminders_support import scheduled_prescription, tick

pytestmark = pytest.mark.django_db

MORNING = datetime(2024, 6, 3, 11, 0, tzinfo=UTC)  # 07:00 in New York
CREATED = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)


@pytest.fixture
def prescription(patient_a):
    ReminderPreference.objects.create(patient=patient_a)  # as enrolment leaves it: email
    with time_machine.travel(CREATED, tick=False):
        return scheduled_prescription(patient_a, slots=[("morning", "07:00"), ("bedtime", "22:00")])


def sent_email():
    [message] = mail.outbox
    return message


def test_it_emails_the_patient_by_name_with_a_check_in_link_that_works(prescription):
    with time_machine.travel(MORNING, tick=False):
        tick()
        message = sent_email()
        reminder = Reminder.objects.get()

        assert message.subject == "Ada, your morning knee rocks"
        assert message.body.startswith("Hi Ada,")
        assert "before you get out of bed" in message.body
        link = f"http://testserver/c/{links.checkin_token(reminder.id)}/"
        assert link in message.body
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert f'href="{link}"' in html

        page = Client().get(link.removeprefix("http://testserver"))
        assert "how did your morning session go?" in page.content.decode()


def test_it_offers_one_click_unsubscribe_in_the_headers(prescription):
    with time_machine.travel(MORNING, tick=False):
        tick()

    message = sent_email()
    stop = f"http://testserver/stop/{links.stop_token(Reminder.objects.get().id)}/"
    assert message.extra_headers["List-Unsubscribe"] == f"<{stop}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Stop these reminders: {stop}" in message.body
    assert "turn them back on" in message.body


def test_it_stops_reminders_in_one_click_and_skips_the_next_one(prescription, patient_a):
    with time_machine.travel(MORNING, tick=False):
        tick()
    stop = f"/stop/{links.stop_token(Reminder.objects.get().id)}/"

    # What a mail app sends for the List-Unsubscribe-Post header (no cookie, no form token).
    response = Client(enforce_csrf_checks=True).post(
        stop, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "Your reminders are off" in response.content.decode()
    assert "To turn them back on" in response.content.decode()
    assert ReminderPreference.objects.get(patient=patient_a).channel == "none"
    with time_machine.travel(datetime(2024, 6, 4, 2, 0, tzinfo=UTC), tick=False):
        tick()
    bedtime = Reminder.objects.get(slot="bedtime")
    assert (bedtime.status, bedtime.reason) == (
        "skipped",
        "the patient chose no reminders (channel none)",
    )
    assert len(mail.outbox) == 1


def test_it_only_asks_when_the_stop_link_is_opened(prescription, patient_a):
    with time_machine.travel(MORNING, tick=False):
        tick()
    stop = f"/stop/{links.stop_token(Reminder.objects.get().id)}/"

    page = Client().get(stop).content.decode()

    assert "Stop my reminders" in page
    assert ReminderPreference.objects.get(patient=patient_a).channel == "email"


def test_it_refuses_a_forged_stop_link(prescription, patient_a):
    with time_machine.travel(MORNING, tick=False):
        tick()
    forged = f"/stop/{links.checkin_token(Reminder.objects.get().id)}/"

    response = Client().post(forged)

    assert "We could not open this link" in response.content.decode()
    assert ReminderPreference.objects.get(patient=patient_a).channel == "email"


def test_it_does_not_send_one_queued_just_before_the_patient_stopped(prescription, patient_a):
    reminder = Reminder.objects.create(
        prescription=prescription,
        slot="morning",
        local_date=date(2024, 6, 3),
        fire_at=MORNING,
        channel="email",
    )
    ReminderPreference.objects.filter(patient=patient_a).update(channel="none")

    with time_machine.travel(MORNING + timedelta(seconds=30), tick=False):
        deliver_reminders.delay([reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, mail.outbox) == ("skipped", [])


@pytest.mark.parametrize("slot, heat", [("morning", False), ("bedtime", False), ("bedtime", True)])
def test_it_fits_a_text_message_for_the_longest_name_and_a_long_address(
    prescription, settings, slot, heat
):
    settings.SITE_URL = "https://riverside.kneerocks.app"
    prescription.patient.first_name = "Bartholomew-Alexander Maximilian"
    prescription.heat_prep = heat
    reminder = Reminder(
        id=2_000_000_000, prescription=prescription, slot=slot, local_date=date(2024, 6, 3)
    )

    sms = reminder_message(reminder).sms

    assert sms_segments(sms) == 1
    assert sms.startswith("Bartholomew, ")
    assert sms.endswith(f"/c/{links.checkin_token(2_000_000_000)}/")
    assert ("warm your low back 10 min" in sms) == heat


def test_it_falls_back_to_a_shorter_text_rather_than_a_second_message(prescription, settings):
    settings.SITE_URL = "https://reminders.riverside-back-clinic.example.com"
    prescription.heat_prep = True
    reminder = Reminder(
        id=2_000_000_000, prescription=prescription, slot="bedtime", local_date=date(2024, 6, 3)
    )

    sms = reminder_message(reminder).sms

    assert sms_segments(sms) == 1
    assert sms.startswith("Ada, time for knee rocks. Check in: https://reminders.")


def test_it_texts_the_short_message_with_its_link(prescription, patient_a, settings):
    patient_a.phone = "+1 555 010 0199"
    patient_a.save()
    ReminderPreference.objects.update_or_create(patient=patient_a, defaults={"channel": "sms"})

    with time_machine.travel(MORNING, tick=False):
        tick()

    [sms] = [json.loads(p.read_text()) for p in settings.SMS_FILE_PATH.iterdir()]
    reminder = Reminder.objects.get()
    assert sms["body"] == (
        "Ada, knee rocks before you get up: slow, easy sways. "
        f"Check in: http://testserver/c/{links.checkin_token(reminder.id)}/"
    )
    assert not CheckIn.objects.exists()


def bedtime_with_heat(prescription, first_name):
    prescription.patient.first_name = first_name
    prescription.heat_prep = True
    reminder = Reminder(
        id=2_000_000_000, prescription=prescription, slot="bedtime", local_date=date(2024, 6, 3)
    )
    return reminder_message(
        reminder
    ).sms, f"http://testserver/c/{links.checkin_token(reminder.id)}/"


@pytest.mark.parametrize("first_name", ["Renée", "Iñaki", "Jürgen", "Ørjan"])
def test_it_keeps_the_full_text_for_names_in_the_sms_alphabet(prescription, first_name):
    sms, link = bedtime_with_heat(prescription, first_name)

    assert sms == (
        f"{first_name}, bedtime: warm your low back 10 min, then slow, easy knee rocks. "
        f"Check in: {link}"
    )
    assert sms_segments(sms) == 1


@pytest.mark.parametrize("first_name", ["Łukasz", "Nguyễn", "Zoë"])
def test_it_leaves_out_a_name_that_would_split_the_text(prescription, first_name):
    sms, link = bedtime_with_heat(prescription, first_name)

    assert sms == f"Time for knee rocks. Check in: {link}"
    assert sms_segments(sms) == 1


@pytest.fixture
def clinic_sms_wording(settings, tmp_path):
    def use(wording):
        (tmp_path / "reminders").mkdir(exist_ok=True)
        (tmp_path / "reminders" / "sms.txt").write_text(wording)
        settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]

    return use


@pytest.mark.parametrize(
    "wording",
    [
        "{{ first_name }}, it\u2019s time for your \u201cknee rocks\u201d. "
        "Check in: {{ checkin_url }}",
        "{{ first_name }}, knee rocks now [{{ session }}], sessions ~10 min, "
        "no fee (\u20ac0). Questions? Ask us at the desk. Check in: {{ checkin_url }}",
    ],
    ids=["curly-quotes", "euro-and-brackets"],
)
def test_it_shortens_a_clinic_wording_that_would_split_the_text(
    prescription, clinic_sms_wording, wording
):
    clinic_sms_wording(wording)

    sms, link = bedtime_with_heat(prescription, "Ada")

    assert sms == f"Ada, time for knee rocks. Check in: {link}"
    assert sms_segments(sms) == 1
