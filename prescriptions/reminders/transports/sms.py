"""Text message: one SMS with the check-in link, through settings.SMS_BACKEND.

A text cannot be told apart from a repeat, so it is never sent twice: each goes alone, its
marks wait for the disk, and one a stopped worker may have sent is failed, not resent. A
patient gets at most settings.SMS_DAILY_LIMIT_PER_PATIENT texts a local day. The words
are kept to one SMS (sms_length.py): a clinic's longer wording falls back to a short one.
"""

from django.conf import settings

import prescriptions.reminders.channels as channels
from patients.models import ReminderPreference
from prescriptions.reminders.transports.base import (
    PermanentDeliveryError,
    Transport,
    one_line,
)
from prescriptions.reminders.transports.sms_length import sms_segments

LIMIT_REACHED = "the daily limit of text messages for this patient is reached"


class SMS(Transport):
    channel = ReminderPreference.Channel.SMS
    resend_in_doubt = False
    limit_reached = LIMIT_REACHED

    def daily_limit(self) -> int:
        return settings.SMS_DAILY_LIMIT_PER_PATIENT

    def words(self, render, context):
        sms = one_line(render("sms.txt"))
        if sms:
            extra = context["extra_link"]
            sms = one_sms(
                sms,
                first_name=context["first_name"],
                link=context["checkin_url"],
                extra=f"{extra.short or extra.words}: {extra.url}" if extra else "",
            )
        return {"sms": sms}

    def open(self):
        return channels.sms_backend()

    def send(self, reminder, message, prepared, connection) -> None:
        if not reminder.phone:
            raise PermanentDeliveryError("sms: the patient has no phone number")
        channels.send_sms(to=reminder.phone, body=message.sms, backend=connection)


def one_sms(sms: str, *, first_name: str, link: str, extra: str = "") -> str:
    """The text, or a shorter one with the same link when it would be billed as more than
    one SMS: a clinic's longer wording, € or brackets (two septets each), or one character
    outside the GSM alphabet (a curly quote, a name such as Łukasz) that cuts an SMS from
    160 characters to 70. Without the name the short text is plain ASCII.

    `extra` (words and a link) goes at the end while one SMS holds it; where none does, it
    is left out rather than sent as a second part (the patient's page shows it too)."""
    texts = (
        sms,
        f"{first_name}, time for knee rocks. Check in: {link}",
        f"Time for knee rocks. Check in: {link}",
    )
    if extra:
        for text in (*texts, f"Knee rocks. Check in: {link}"):
            if sms_segments(f"{text} {extra}") == 1:
                return f"{text} {extra}"
    for text in texts:
        if sms_segments(text) == 1:
            return text
    return text  # only a very long SITE_URL gets here: the link goes whole, in two parts
