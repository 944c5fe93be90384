"""Reminder channels as a registry of transports, one module per kind: email.py, sms.py,
webhook.py (base.py says what each offers). Code that sends, prepares or words a reminder
asks `transport_for(reminder.channel)` instead of naming a channel.

The channel values are the patient's preference's (patients.models.ReminderPreference
.Channel); `none` has no transport: a reminder is never queued for it. The wire beneath
(SMTP, the SMS backend, the signed and address-checked POST) is channels.py, beside this folder.
"""

from prescriptions.reminders.transports.base import (
    DeliveryError,
    PermanentDeliveryError,
    Transport,
    Unknown,
)
from prescriptions.reminders.transports.email import Email, reminder_message_id
from prescriptions.reminders.transports.sms import SMS
from prescriptions.reminders.transports.webhook import Webhook

__all__ = [
    "TRANSPORTS",
    "DeliveryError",
    "PermanentDeliveryError",
    "Transport",
    "reminder_message_id",
    "transport_for",
]

TRANSPORTS: dict[str, Transport] = {
    transport.channel: transport for transport in (Email(), SMS(), Webhook())
}


def transport_for(channel: str) -> Transport:
    return TRANSPORTS.get(channel) or Unknown(channel)
