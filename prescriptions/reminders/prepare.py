"""Preparing: a reminder's message is built in the minute before it is due.

The tick queues a minute ahead, so the worker has that minute to spare before a burst of
reminders falls due together. Each batch is queued twice: to be prepared now, and to be
delivered at its instant (eta). The preparation renders the words of the reminder's
channel and, for an email, generates its MIME text (together most of a reminder's cost),
and keeps them in the cache under a key made of everything they were built from: the
reminder, its channel, slot and day, the patient's first name and address, the heat
minutes, the site's address and the sender.

At the instant the delivery decides everything as before (already checked in, archived,
paused, stopped, too late), then looks each reminder up under the key of what the rows say
then: a patient who changed their name or address since is a miss, and a miss (a cache
that restarted or is not shared, a preparation that came late) is built on the spot. A
preparation never decides whether, when or where a reminder goes, and never sends.
"""

import hashlib
import logging
import pickle
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from typing import Protocol as Shape

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from prescriptions import extensions
from prescriptions.models import Reminder
from prescriptions.reminders.messages import Message, reminder_message
from prescriptions.reminders.plan import LATE_LIMIT
from prescriptions.reminders.transports import transport_for

logger = logging.getLogger(__name__)

# Part of every key: a change to what is kept makes the old entries misses.
FORMAT = 1


@dataclass(frozen=True)
class Prepared:
    message: Message  # the words of the reminder's channel (the others empty)
    # What the channel's transport built before the instant: an email's, its MIME text
    # generated; None for the others.
    email: Any


def prepare(reminder: Reminder, now: datetime, links: dict | None = None) -> Prepared:
    """The reminder's message, as it is sent (`reminder.prescription.patient` and
    `.protocol` loaded; `links`: its batch's extensions.reminder_links, else asked for
    this reminder alone)."""
    message = reminder_message(reminder, channel=reminder.channel, links=links)
    return Prepared(message, transport_for(reminder.channel).prepare(reminder, message, now))


def reminders_prepare(*, reminder_ids: list[int], now: datetime | None = None) -> int:
    """Prepares those of the reminders still waiting for an instant to come and keeps them
    until the instant is past sending; answers how many."""
    now = now or timezone.now()
    reminders = list(
        Reminder.objects.filter(
            id__in=reminder_ids,
            status=Reminder.Status.QUEUED,
            lease_until__isnull=True,
            fire_at__gt=now,  # one already due is being delivered: preparing would delay it
        ).prefetch_related("prescription__patient", "prescription__protocol")
    )
    if not reminders:
        return 0
    kept_until = max(r.fire_at for r in reminders) + LATE_LIMIT
    links = extensions.reminder_links(reminders)
    _cache_call(
        cache.set_many,
        {_key(r): _packed(prepare(r, now, links)) for r in reminders},
        timeout=(kept_until - now).total_seconds(),
    )
    return len(reminders)


class Keyed(Shape):
    """What a prepared message is looked up by, as the delivery reads it at the instant."""

    id: int
    channel: str
    slot: str
    local_date: date
    first_name: str
    email: str

    @property
    def heat_minutes(self) -> int: ...


def prepared_for(reminders: list[Keyed], now: datetime) -> dict[int, Prepared]:
    """Each reminder's message: the one prepared from what the rows still say, or one built
    now."""
    keys = {r.id: _key_of(r) for r in reminders}
    found = _cache_call(cache.get_many, list(keys.values())) or {}
    prepared = {r.id: _unpacked(found[keys[r.id]]) for r in reminders if keys[r.id] in found}
    missed = [r.id for r in reminders if r.id not in prepared]
    if missed:
        rows = list(
            Reminder.objects.filter(id__in=missed).select_related(
                "prescription__patient", "prescription__protocol"
            )
        )
        links = extensions.reminder_links(rows)
        for reminder in rows:
            prepared[reminder.id] = prepare(reminder, now, links)
    return prepared


def _key(reminder: Reminder) -> str:
    prescription = reminder.prescription
    patient = prescription.patient
    return _prepared_key(
        reminder.id,
        reminder.channel,
        reminder.slot,
        reminder.local_date,
        patient.first_name,
        patient.email,
        prescription.heat_minutes,
    )


def _key_of(reminder: Keyed) -> str:
    return _prepared_key(
        reminder.id,
        reminder.channel,
        reminder.slot,
        reminder.local_date,
        reminder.first_name,
        reminder.email,
        reminder.heat_minutes,
    )


def _prepared_key(
    reminder_id: int,
    channel: str,
    slot: str,
    local_date: date,
    first_name: str,
    email: str,
    heat_minutes: int,
) -> str:
    made_of = (
        FORMAT,
        reminder_id,
        channel,
        slot,
        local_date.isoformat(),
        first_name,
        email,
        heat_minutes,
        settings.SITE_URL,
        settings.DEFAULT_FROM_EMAIL,
    )
    digest = hashlib.sha256(repr(made_of).encode()).hexdigest()[:32]
    return f"reminder-prepared:{reminder_id}:{digest}"


# Compressed: an email's words are in it twice over (texts and MIME), and a burst of tens
# of thousands waits in the cache for its minute.
def _packed(prepared: Prepared) -> bytes:
    return zlib.compress(pickle.dumps(prepared, pickle.HIGHEST_PROTOCOL), 1)


def _unpacked(data: bytes) -> Prepared:
    return pickle.loads(zlib.decompress(data))


def _cache_call(call: Callable, *args, **kwargs):
    """The cache only saves work: whatever it raises (a Redis that is down), the reminder is
    built on the spot instead."""
    try:
        return call(*args, **kwargs)
    except Exception:
        logger.warning("the cache of prepared reminders did not answer", exc_info=True)
        return None
