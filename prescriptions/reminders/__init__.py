"""Reminders: due → claim → deliver.

The database is the scheduler. Every `PrescriptionSlot` holds `next_fire_at`, the next
instant it is due (see schedule.py for the rules), so one periodic tick finds what is due
with an indexed range query, however many patients there are:

1. `plan.py`: a prescription's reminder times, and `slots_reschedule`, which keeps each
   slot's `next_fire_at` current whenever the prescription, its status or the patient's
   zone changes.
2. `tick.py`: `reminders_tick` locks the due slots (`SKIP LOCKED` on PostgreSQL, so
   overlapping ticks never take the same slot; SQLite's IMMEDIATE transactions serialise
   them), decides each reminder there and then (`queued`, or `skipped` with its reason),
   inserts it under the unique (prescription, slot, local_date) constraint, advances
   `next_fire_at` and, after commit, queues one delivery task per batch of reminder ids.
   The beat's tick works a minute ahead: each batch's task waits in the broker for its
   reminders' instant (eta), so the tick's own time is not part of their lateness.
   Each tick also sweeps what a lost message or a killed worker left behind: claims
   whose lease ran out before sending began go back to the queue, a reminder whose send
   had begun is in doubt and goes again under the same Message-ID / Idempotency-Key
   (a text message is not sent twice), one never attempted is queued again.
3. `prepare.py`: while a batch waits for its instant, its messages are built (the words,
   an email's MIME text) and kept in the cache under a key of what they were built from.
4. `deliver.py`: `reminders_deliver` claims with a lease, checks again, marks `sending`,
   sends what was prepared (or builds it, when the patient's details changed since) and
   records `sent`, ten emails or webhooks at a time.

What differs per channel (email, SMS, the patient's webhook) is its transport, in
`transports/`: the path asks `transport_for(channel)` and never names a channel;
`channels.py` is the wire beneath them (SMTP, the SMS backend, the signed and
address-checked POST, which the clinics' webhooks use too).

Beside the path: `links.py` signs the links a reminder carries (check-in, stop, calendar),
`calendar.py` answers the iCalendar feed of the plan, `quiet_hours.py` warns when quiet
hours would silence every session.

The patient's reminder preferences (channel, quiet hours, webhook) live in `patients`.
"""

from prescriptions.reminders.calendar import calendar_feed
from prescriptions.reminders.channels import (
    DeliveryError,
    webhook_address,
    webhook_post,
)
from prescriptions.reminders.deliver import reminders_deliver, retry_delay
from prescriptions.reminders.links import (
    calendar_patient_version,
    calendar_token,
    checkin_reminder_id,
    checkin_token,
    stop_reminder_id,
    stop_token,
)
from prescriptions.reminders.messages import site_url
from prescriptions.reminders.plan import (
    histories_for,
    patient_slots_reschedule,
    plan_for,
    slots_reschedule,
)
from prescriptions.reminders.prepare import reminders_prepare
from prescriptions.reminders.quiet_hours import quiet_hours_cover_every_slot
from prescriptions.reminders.tick import reminders_tick

__all__ = [
    "DeliveryError",
    "calendar_feed",
    "calendar_patient_version",
    "calendar_token",
    "checkin_reminder_id",
    "checkin_token",
    "histories_for",
    "patient_slots_reschedule",
    "plan_for",
    "quiet_hours_cover_every_slot",
    "reminders_deliver",
    "reminders_prepare",
    "reminders_tick",
    "retry_delay",
    "site_url",
    "slots_reschedule",
    "stop_reminder_id",
    "stop_token",
    "webhook_address",
    "webhook_post",
]
