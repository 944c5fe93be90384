"""The patient's own webhook: a signed JSON POST to the address the patient set (an app of
theirs), not the clinic's webhooks (the webhooks app).

Every attempt carries `Idempotency-Key: reminder-<id>`, so a receiver that has handled a
reminder drops the repeat: a send in doubt goes again.
"""

import prescriptions.reminders.channels as channels
from patients.models import ReminderPreference
from prescriptions.reminders.transports.base import (
    PermanentDeliveryError,
    Transport,
    one_line,
)


class Webhook(Transport):
    channel = ReminderPreference.Channel.WEBHOOK

    def words(self, render, context):
        return {"subject": one_line(render("subject.txt")), "text": render("email.txt")}

    def send(self, reminder, message, prepared, connection) -> None:
        if not reminder.webhook_url:
            raise PermanentDeliveryError("webhook: no webhook_url is set")
        channels.send_webhook(
            url=reminder.webhook_url,
            secret=reminder.webhook_secret or "",
            payload=payload(reminder, message),
            idempotency_key=f"reminder-{reminder.id}",
        )


def payload(reminder, message) -> dict:
    return {
        "event": "reminder",
        "reminder": reminder.id,
        "prescription": reminder.prescription_id,
        "slot": reminder.slot,
        "local_date": reminder.local_date.isoformat(),
        "fire_at": reminder.fire_at.isoformat(),
        "title": message.subject,
        "message": message.text,
        "checkin_url": message.checkin_url,
    }
