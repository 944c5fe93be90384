"""What a reminder says, by email, text message and webhook.

The words are Django templates in prescriptions/templates/reminders/ so that a clinic can
adjust them (a template of the same name earlier in TEMPLATES' DIRS wins). Each message
carries the session's check-in link; emails also carry a one-click stop link.
"""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from prescriptions import links
from prescriptions.models import Reminder

# A text message must stay one SMS (160 characters): long first names are cut, and the
# link is kept short (see links.py).
SMS_MAX = 159
FIRST_NAME_MAX = 12


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    sms: str
    checkin_url: str
    stop_url: str


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def checkin_url(reminder_id: int) -> str:
    return site_url(reverse("checkin-link", args=[links.checkin_token(reminder_id)]))


def stop_url(reminder_id: int) -> str:
    return site_url(reverse("stop-reminders", args=[links.stop_token(reminder_id)]))


def short_name(first_name: str) -> str:
    name = " ".join(first_name.split())
    return name if len(name) <= FIRST_NAME_MAX else name[:FIRST_NAME_MAX].rstrip(" -")


def reminder_message(reminder: Reminder) -> Message:
    prescription = reminder.prescription
    context = {
        "first_name": short_name(prescription.patient.first_name),
        "session": reminder.slot,
        # Heat comes before the bedtime session only (the reminder fires that much earlier).
        "heat_minutes": prescription.heat_minutes if reminder.slot == "bedtime" else 0,
        "local_date": reminder.local_date,
        "checkin_url": checkin_url(reminder.id),
        "stop_url": stop_url(reminder.id),
        "page_url": site_url(reverse("patient-home")),
    }
    sms = " ".join(render_to_string("reminders/sms.txt", context).split())
    if len(sms) > SMS_MAX:
        # A clinic's longer wording still leaves one message with the link in it.
        sms = f"{context['first_name']}, time for knee rocks. Check in: {context['checkin_url']}"
    return Message(
        subject=" ".join(render_to_string("reminders/subject.txt", context).split()),
        text=render_to_string("reminders/email.txt", context),
        html=render_to_string("reminders/email.html", context),
        sms=sms,
        checkin_url=context["checkin_url"],
        stop_url=context["stop_url"],
    )
