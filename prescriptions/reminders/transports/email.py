"""Email: the reminder in a subject, plain text and HTML, with a one-click stop link.

Its MIME text, the dearest part of sending it, is generated in the minute before the
instant (prepare.py). Every attempt carries the same Message-ID, so a resend after a worker
stopped mid-send is recognised as a repeat by the mail system: a send in doubt goes again.
A batch sends its emails through one connection to the mail server.
"""

import functools
from email.utils import formatdate, parseaddr

from django.conf import settings
from django.core.mail import get_connection

import prescriptions.reminders.channels as channels
from patients.models import ReminderPreference
from prescriptions.reminders.transports.base import Transport, one_line


def reminder_message_id(reminder) -> str:
    return f"<reminder-{reminder.id}@{_domain(settings.DEFAULT_FROM_EMAIL)}>"


@functools.lru_cache
def _domain(from_email: str) -> str:
    return parseaddr(from_email)[1].rpartition("@")[2] or "kneerocks.local"


class Email(Transport):
    channel = ReminderPreference.Channel.EMAIL

    def words(self, render, context):
        return {
            "subject": one_line(render("subject.txt")),
            "text": render("email.txt"),
            "html": render("email.html"),
        }

    def prepare(self, reminder, message, now):
        email = channels.email_message(
            to=reminder.prescription.patient.email,
            subject=message.subject,
            body=message.text,
            html=message.html,
            headers={
                # The same for every attempt: a resend after a worker stopped mid-send is
                # recognised as a repeat by the mail system.
                "Message-ID": reminder_message_id(reminder),
                # RFC 2369 and RFC 8058: mail apps offer their own one-click "unsubscribe".
                "List-Unsubscribe": f"<{message.stop_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                # Written at its instant, even when prepared before it.
                "Date": formatdate(
                    max(reminder.fire_at, now).timestamp(),
                    localtime=settings.EMAIL_USE_LOCALTIME,
                ),
            },
        )
        email.mime = email.generate()
        return email

    def open(self):
        connection = get_connection()
        connection.open()
        return connection

    def close(self, connection) -> None:
        connection.close()

    def send(self, reminder, message, prepared, connection) -> None:
        channels.send_email(prepared, connection=connection)
