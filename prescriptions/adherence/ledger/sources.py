"""The ledger's sources read for a batch of prescriptions: their dates, the schedules
(slots and zone) in force from each instant, and their status history."""

from collections import defaultdict
from datetime import time
from zoneinfo import ZoneInfo

from prescriptions.adherence.days import Schedule, Sources
from prescriptions.models import (
    EPOCH,
    Prescription,
    PrescriptionSlot,
    ScheduleChange,
    StatusChange,
)


def sources_for(prescription_ids) -> dict[int, Sources]:
    """Four queries however many prescriptions."""
    ids = list(prescription_ids)
    rows = Prescription.objects.filter(id__in=ids).values_list(
        "id",
        "patient_id",
        "start_date",
        "end_date",
        "ledger_until",
        "patient__timezone",
        "created_at",
    )
    schedules = defaultdict(list)
    for prescription_id, since, zone, slots in (
        ScheduleChange.objects.filter(prescription_id__in=ids)
        .order_by("effective_at", "id")
        .values_list("prescription_id", "effective_at", "timezone", "slots")
    ):
        slots = tuple((kind, time.fromisoformat(at)) for kind, at in slots)
        schedules[prescription_id].append(Schedule(since, ZoneInfo(zone), slots))
    current_slots = defaultdict(list)
    for prescription_id, kind, at in (
        PrescriptionSlot.objects.filter(prescription_id__in=ids)
        .order_by("time", "kind")
        .values_list("prescription_id", "kind", "time")
    ):
        current_slots[prescription_id].append((kind, at))
    changes = defaultdict(list)
    for prescription_id, at, status in (
        StatusChange.objects.filter(prescription_id__in=ids)
        .order_by("effective_at", "id")
        .values_list("prescription_id", "effective_at", "status")
    ):
        changes[prescription_id].append((at, status))
    found = {}
    for prescription_id, patient_id, start_date, end_date, until, zone, written_at in rows:
        # Made without the services (fixtures, old data): its current slots and zone from
        # the beginning.
        history = schedules[prescription_id] or [
            Schedule(EPOCH, ZoneInfo(zone), tuple(current_slots[prescription_id]))
        ]
        found[prescription_id] = Sources(
            prescription_id,
            patient_id,
            start_date,
            end_date,
            until,
            history,
            changes[prescription_id],
            written_at,
        )
    return found
