"""What happened to a clinic's clinical data, one event per change, for the clinic's other
systems (the event feed `events/`, later its webhooks).

    events.record(events.Type.PRESCRIPTION_PAUSED, clinic_id=patient.clinic_id,
                  patient=patient.id, prescription=prescription.id)

Called by the service that makes the change, inside its transaction, beside the row and
its audit entry (docs/events.md): a change that rolls back takes its event with it.

`Type` below is the one place an event type is defined: a new type is a line there (and
a line in docs/events.md), no migration. `data` carries ids only, as keyword arguments
naming what they point at (`patient=`, `prescription=`, `check_in=`, `alert=`,
`reminder=`…); never a name, a note or a symptom: the receiver fetches what it may see.
"""

from collections.abc import Iterable

from django.db import models
from django.utils import timezone

from clinic.models import Event


class Type(models.TextChoices):
    # The contract's types (shared/PRODUCT.md, "Events and webhooks").
    PATIENT_ENROLLED = "patient.enrolled"
    PATIENT_UPDATED = "patient.updated"
    PATIENT_ARCHIVED = "patient.archived"
    PRESCRIPTION_CREATED = "prescription.created"
    PRESCRIPTION_CHANGED = "prescription.changed"
    PRESCRIPTION_PAUSED = "prescription.paused"
    PRESCRIPTION_RESUMED = "prescription.resumed"
    PRESCRIPTION_ENDED = "prescription.ended"
    CHECK_IN_CREATED = "check_in.created"
    ALERT_RAISED = "alert.raised"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    REMINDER_FAILED = "reminder.failed"
    QUESTIONNAIRE_RESPONSE_CREATED = "questionnaire_response.created"
    # Beyond the contract's list: a patient's correction of their own check-in.
    CHECK_IN_CORRECTED = "check_in.corrected"
    CHECK_IN_WITHDRAWN = "check_in.withdrawn"


TYPES = frozenset(Type.values)


def _data(ids: dict) -> dict:
    for name, value in ids.items():
        # Ids only: an int (or None, for a link that is not there), never text.
        if not (value is None or (isinstance(value, int) and not isinstance(value, bool))):
            raise TypeError(f"event data {name!r} must be an id, not {type(value).__name__}")
    return ids


def _event(type: str, clinic_id: int, ids: dict, at) -> Event:
    if type not in TYPES:
        raise ValueError(f"unknown event type {type!r}: add it to clinic.events.Type")
    return Event(clinic_id=clinic_id, type=str(type), at=at, data=_data(ids))


def record(type: str, *, clinic_id: int, **ids: int | None) -> Event:
    """Appends one event to the clinic's feed, in the caller's transaction."""
    event = _event(type, clinic_id, ids, timezone.now())
    event.save(force_insert=True)
    return event


def record_each(type: str, rows: Iterable[tuple[int, dict]]) -> list[Event]:
    """One event of `type` per (clinic_id, ids) row, in one INSERT: for a change made to
    many rows at once (the periodic alert rules)."""
    now = timezone.now()
    events = [_event(type, clinic_id, ids, now) for clinic_id, ids in rows]
    if not events:
        return []
    return Event.objects.bulk_create(events)


def after(*, clinic_id: int, cursor: int = 0):
    """The clinic's events after the event `cursor`, in the order they were written."""
    return Event.objects.filter(clinic_id=clinic_id, id__gt=cursor).order_by("id")
