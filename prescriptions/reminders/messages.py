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
from prescriptions.sms_length import sms_segments

# A text message must stay one SMS (see sms_length.py): long first names are cut, and the
# link is kept short (see links.py).
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
    return Message(
        subject=" ".join(render_to_string("reminders/subject.txt", context).split()),
        text=render_to_string("reminders/email.txt", context),
        html=render_to_string("reminders/email.html", context),
        sms=one_sms(sms, first_name=context["first_name"], link=context["checkin_url"]),
        checkin_url=context["checkin_url"],
        stop_url=context["stop_url"],
    )


def one_sms(sms: str, *, first_name: str, link: str) -> str:
    """The text, or a shorter one with the same link when it would be billed as more than
    one SMS: a clinic's longer wording, € or brackets (two septets each), or one character
    outside the GSM alphabet (a curly quote, a name such as Łukasz) that cuts an SMS from
    160 characters to 70. Without the name the short text is plain ASCII."""
    for text in (
        sms,
        f"{first_name}, time for knee rocks. Check in: {link}",
        f"Time for knee rocks. Check in: {link}",
    ):
        if sms_segments(text) == 1:
            return text
    return text  # only a very long SITE_URL gets here: the link goes whole, in two parts
