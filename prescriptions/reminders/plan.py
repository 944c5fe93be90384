"""When a prescription reminds: its `Plan`, and each slot's `next_fire_at` kept current.

Also the rules every later step shares: how late is too late, and which sessions are
already done.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Protocol as Shape
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from prescriptions.models import CheckIn, Prescription, PrescriptionSlot, StatusChange
from prescriptions.schedule import Plan, next_occurrence

# Later than this, a reminder would arrive at a time nobody chose (maybe the middle of the
# night after an outage): it is recorded as skipped instead.
LATE_LIMIT = timedelta(minutes=60)

CHECKED_IN = "already checked in for this session"


class Planned(Shape):
    """What a plan is read from: a `Prescription`, or a row the tick read as values."""

    start_date: date
    end_date: date | None
    status: str

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def heat_minutes(self) -> int: ...


def plan_for(
    prescription: Planned,
    history: Iterable[tuple[datetime, str]],
    slots: Iterable[PrescriptionSlot] = (),
) -> Plan:
    """The pure description of a prescription's reminder times (`slots` only matter to
    `schedule.occurrences`)."""
    return Plan(
        tz=prescription.zone,
        start_date=prescription.start_date,
        end_date=prescription.end_date,
        slots=tuple((slot.kind, slot.time) for slot in slots),
        heat_prep_minutes=prescription.heat_minutes,
        history=tuple(history),
        status=prescription.status,
    )


def histories_for(prescription_ids: Iterable[int]) -> dict[int, list[tuple[datetime, str]]]:
    histories = defaultdict(list)
    rows = StatusChange.objects.filter(prescription_id__in=list(prescription_ids)).order_by(
        "effective_at", "id"
    )
    for prescription_id, effective_at, status in rows.values_list(
        "prescription_id", "effective_at", "status"
    ):
        histories[prescription_id].append((effective_at, status))
    return histories


def is_late(fire_at: datetime, now: datetime) -> bool:
    return now - fire_at > LATE_LIMIT


def checked_in_sessions(
    prescription_ids: Iterable[int], dates: Iterable[date]
) -> set[tuple[int, str, date]]:
    """(prescription, slot, local date) of every session already recorded: nobody is
    reminded of a session they have done."""
    return set(
        CheckIn.objects.filter(
            prescription_id__in=set(prescription_ids), local_date__in=set(dates)
        ).values_list("prescription_id", "slot", "local_date")
    )


def slots_reschedule(*, prescription_id: int, now: datetime | None = None) -> None:
    """Recomputes the next fire instant of each slot of the prescription.

    Called (inside the transaction) after a prescription is created or changed, its status
    changes, or its patient's time zone changes. It looks back as far as a reminder may be
    late, so an edit made just after a slot came due does not drop that reminder; one that
    was already created is not created again (the tick checks, the constraint enforces).
    """
    now = now or timezone.now()
    prescription = Prescription.objects.select_related("patient", "protocol").get(
        id=prescription_id
    )
    plan = plan_for(prescription, histories_for([prescription_id])[prescription_id])
    slots = list(prescription.slots.all())
    for slot in slots:
        occurrence = next_occurrence(plan, slot.kind, slot.time, now - LATE_LIMIT)
        slot.next_fire_at = occurrence.fire_at if occurrence else None
    PrescriptionSlot.objects.bulk_update(slots, ["next_fire_at"])


def patient_slots_reschedule(*, patient_id: int) -> None:
    """Moves the reminder times of every prescription of a patient that may still remind,
    after their zone changed, so the next tick already fires at the new local times."""
    ids = Prescription.objects.filter(patient_id=patient_id).exclude(
        status=Prescription.Status.ENDED
    )
    for prescription_id in ids.values_list("id", flat=True):
        with transaction.atomic():
            slots_reschedule(prescription_id=prescription_id)
