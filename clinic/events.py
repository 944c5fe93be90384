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

What the product itself does when something happens reads the events too: a `Reader`
registered with `read_by()` (from its app's `AppConfig.ready()`, so that this module never
imports the apps built on it) is called with the new events inside the transaction that
wrote them, where its work must commit or roll back with the change, and/or with their ids
once that transaction has committed, where a message goes out.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.db import connection, models, transaction
from django.db.models import Q, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
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
    # Beyond the contract's list: a patient's correction of their own check-in, a check-in
    # adding a warning sign to the patient's open red-flag alert, and a patient's new zone
    # (beside patient.updated: what reminders and expected sessions follow).
    CHECK_IN_CORRECTED = "check_in.corrected"
    CHECK_IN_WITHDRAWN = "check_in.withdrawn"
    ALERT_UPDATED = "alert.updated"
    PATIENT_TIMEZONE_CHANGED = "patient.timezone_changed"


TYPES = frozenset(Type.values)


@dataclass(frozen=True)
class Reader:
    """Something the product does with the events of `types` (None: every type)."""

    name: str
    types: frozenset[str] | None = None
    # Called with the new events in the transaction that wrote them.
    in_transaction: Callable[[list[Event]], None] | None = None
    # Called with the new events' ids once that transaction has committed.
    after_commit: Callable[[list[int]], None] | None = None

    def reads(self, event: Event) -> bool:
        return self.types is None or event.type in self.types


READERS: list[Reader] = []


def read_by(reader: Reader) -> None:
    """Registers `reader` (once per name: a second ready() replaces the first)."""
    READERS[:] = [known for known in READERS if known.name != reader.name]
    READERS.append(reader)


def _read(written: list[Event]) -> None:
    for reader in READERS:
        mine = [event for event in written if reader.reads(event)]
        if not mine:
            continue
        if reader.in_transaction:
            reader.in_transaction(mine)
        if reader.after_commit:
            transaction.on_commit(partial(reader.after_commit, [event.id for event in mine]))


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
    _read([event])
    return event


def record_each(type: str, rows: Iterable[tuple[int, dict]]) -> list[Event]:
    """One event of `type` per (clinic_id, ids) row, in one INSERT: for a change made to
    many rows at once (the periodic alert rules)."""
    now = timezone.now()
    events = [_event(type, clinic_id, ids, now) for clinic_id, ids in rows]
    if not events:
        return []
    written = Event.objects.bulk_create(events)
    _read(written)
    return written


# The oldest transaction still running when the statement began: every transaction below it
# has ended, and none that writes from now on can take an id below it.
OLDEST_RUNNING = RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [])
# The reader's own transaction, if it has written: it sees its own events (null otherwise).
OWN = RawSQL("pg_current_xact_id_if_assigned()::text::bigint", [])


def after(*, clinic_id: int, cursor: int = 0):
    """The clinic's events after the event `cursor`, in the feed's order.

    On PostgreSQL an id comes from a sequence when the event is inserted, not when its
    transaction commits: one that took id 10 may commit after one that took id 11, and a
    poller that saw 11 would never get 10. So the feed answers only the events of
    transactions that have all ended (their `xid` below the oldest one running), ordered by
    transaction, then id: no event can ever join that order before an event already
    answered, and `cursor` stands for its event's place in it (for an id not of this
    clinic's events, the place of the clinic's last event before it). A transaction reads
    the events it wrote itself too (tests do; the product's polls write none). SQLite has
    one writer at a time: ids commit in order.
    """
    events = Event.objects.filter(clinic_id=clinic_id)
    if connection.vendor != "postgresql":
        return events.filter(id__gt=cursor).order_by("id")
    seen = events.filter(id__lte=cursor).order_by("-id")
    xid = Coalesce(Subquery(seen.values("xid")[:1]), Value(-1))
    last = Coalesce(Subquery(seen.values("id")[:1]), Value(0))
    return (
        events.filter(Q(xid__lt=OLDEST_RUNNING) | Q(xid=OWN))
        .filter(Q(xid__gt=xid) | Q(xid=xid, id__gt=last))
        .order_by("xid", "id")
    )
