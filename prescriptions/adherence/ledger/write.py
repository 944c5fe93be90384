"""Writing the ledger: a prescription's days from an instant on, as time passes, as a
source changes, or all again from the sources (see the package's face)."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from prescriptions.adherence.days import KINDS, Day, Sources, days_between
from prescriptions.adherence.ledger.counts import COUNT_FIELDS, check_in_counts
from prescriptions.adherence.ledger.patients import ledger_patients_refresh
from prescriptions.adherence.ledger.sources import sources_for
from prescriptions.models import EPOCH, AdherenceDay, ClinicRowVersion, Prescription, ScheduleChange
from prescriptions.schedule import local_date_of

# Prescriptions written per transaction by the tick and the rebuild.
BATCH = 500
SESSION_FIELDS = [
    "timezone",
    "active",
    *(f"{kind}_{what}" for kind in KINDS for what in ("due_at", "time")),
]


def _write(
    sources: list[Sources],
    since: dict[int, datetime],
    now: datetime,
    *,
    counts: dict[tuple[int, date], AdherenceDay] | None = None,
) -> None:
    """Rewrites each prescription's days from `since[id]` on, up to the end of its today.

    Days before the date of `since` (one day earlier, for zone changes) are left as they
    were; later ones are worked out again and replaced, keeping their check-in counts.
    With `counts` (the check-in counts of prescriptions whose days were all deleted), the
    days are written afresh in one insert.
    """
    rows = []
    clear_from = defaultdict(list)
    next_until = defaultdict(list)
    for src in sources:
        start = since[src.id]
        written_to, until = src.horizon(now)
        first_date = local_date_of(start, src.schedule_at(start).tz) - timedelta(days=1)
        # A session dated first_date in any zone falls due after this.
        days = days_between(src, max(start - timedelta(days=4), EPOCH), written_to)
        clear_from[first_date].append(src.id)
        next_until[until].append(src.id)
        rows += [
            AdherenceDay(
                prescription_id=src.id, patient_id=src.patient_id, local_date=d, **day.values()
            )
            for d, day in sorted(days.items())
            if d >= first_date
        ]
    if counts is not None:
        for row in rows:
            counted = counts.pop((row.prescription_id, row.local_date), None)
            for name in COUNT_FIELDS if counted else ():
                setattr(row, name, getattr(counted, name))
        AdherenceDay.objects.bulk_create([*rows, *counts.values()], batch_size=2000)
        clear_from = {}
        rows = []
    cleared = Day().values()
    for first_date, ids in clear_from.items():
        again = AdherenceDay.objects.filter(prescription_id__in=ids, local_date__gte=first_date)
        # Days kept only for their check-ins lose what they expected; the others go.
        again.filter(check_ins=0).delete()
        again.update(**cleared)
    AdherenceDay.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["prescription", "local_date"],
        update_fields=SESSION_FIELDS,
    )
    for until, ids in next_until.items():
        Prescription.objects.filter(id__in=ids).update(ledger_until=until)
    # A rebuild (`counts`) read the check-ins again: the last one is read again too.
    ledger_patients_refresh((src.patient_id for src in sources), check_ins=counts is not None)


def _outdate(sources) -> None:
    """The ledger written as time passes or again from its sources: no change happened to
    the patients, so no event outdates their stored clinic rows; the ledger does it here,
    after its days (the order every writer keeps, models/ledger.py). A row computed while
    the tick held these prescriptions (a report's catch-up skips them) must not be read."""
    ClinicRowVersion.objects.outdate(src.patient_id for src in sources)


def ledger_rewrite(*, prescription_id: int, since: datetime, now: datetime | None = None) -> None:
    """A source of this prescription changed from `since` on: its days from then on are
    written again. Called inside the change's transaction."""
    now = now or timezone.now()
    src = sources_for([prescription_id])[prescription_id]
    _write([src], {src.id: min(since, src.ledger_until)}, now)


def _write_due(prescriptions, now: datetime) -> int:
    """Writes on every prescription of the queryset whose ledger_until has passed."""
    done = 0
    due = prescriptions.filter(ledger_until__lte=now)
    # One plain read when all is written, as it normally is: no transaction to open.
    while due.exists():
        with transaction.atomic():
            ids = list(
                due.select_for_update(skip_locked=True, of=("self",))
                .order_by("ledger_until", "id")
                .values_list("id", flat=True)[:BATCH]
            )
            if ids:
                sources = sources_for(ids)
                _write(list(sources.values()), {i: s.ledger_until for i, s in sources.items()}, now)
                _outdate(sources.values())
        done += len(ids)
        if len(ids) < BATCH:
            break
    return done


def ledger_tick(*, now: datetime | None = None) -> int:
    """The scheduler's part: writes the day that began for every prescription due."""
    return _write_due(Prescription.objects.all(), now or timezone.now())


def ledger_catch_up(*, patient_ids=None, clinic_id: int | None = None, now=None) -> None:
    """Before a report: writes what fell due and the tick has not written yet (nothing,
    normally; a day or more when the scheduler was down)."""
    prescriptions = Prescription.objects.all()
    if patient_ids is not None:
        prescriptions = prescriptions.filter(patient_id__in=list(patient_ids))
    if clinic_id is not None:
        prescriptions = prescriptions.filter(patient__clinic_id=clinic_id)
    _write_due(prescriptions, now or timezone.now())


# --- Sources changing ---------------------------------------------------------------------


def _schedule_values(prescription: Prescription, zone: str) -> dict:
    slots = prescription.slots.order_by("time", "kind").values_list("kind", "time")
    return {"timezone": zone, "slots": [[kind, at.strftime("%H:%M")] for kind, at in slots]}


def schedule_start(*, prescription: Prescription, now: datetime | None = None) -> None:
    """A new prescription: its first schedule, and its days so far (a start in the past)."""
    ScheduleChange.objects.create(
        prescription=prescription,
        effective_at=EPOCH,
        **_schedule_values(prescription, prescription.patient.timezone),
    )
    ledger_rewrite(prescription_id=prescription.id, since=EPOCH, now=now)


def schedule_change(
    *,
    prescription: Prescription,
    previous: dict | None = None,
    now: datetime | None = None,
) -> None:
    """The slots or the zone changed now: sessions still to come follow the new ones.

    `previous` ({"timezone", "slots"}) is the schedule before the change, recorded as the
    first one when the prescription has no recorded schedule yet.
    """
    now = now or timezone.now()
    if previous is not None and not prescription.schedule_changes.exists():
        ScheduleChange.objects.create(prescription=prescription, effective_at=EPOCH, **previous)
    ScheduleChange.objects.create(
        prescription=prescription,
        effective_at=now,
        **_schedule_values(prescription, prescription.patient.timezone),
    )
    ledger_rewrite(prescription_id=prescription.id, since=now, now=now)


def schedule_snapshot(prescription: Prescription, zone: str | None = None) -> dict:
    """The schedule in force, to pass as `previous` before changing it."""
    return _schedule_values(prescription, zone or prescription.patient.timezone)


# --- Rebuilding ---------------------------------------------------------------------------


def ledger_rebuild(*, prescription_ids=None, now: datetime | None = None, progress=None) -> int:
    """Writes the ledger again from its sources (all prescriptions by default)."""
    now = now or timezone.now()
    ids = list(
        Prescription.objects.order_by("id").values_list("id", flat=True)
        if prescription_ids is None
        else prescription_ids
    )
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        with transaction.atomic():
            _outdate(_rebuild(batch, now))
        if progress:
            progress(len(batch))
    return len(ids)


def prescription_ledger_rebuild(*, prescription_id: int, now: datetime) -> None:
    """ledger_rebuild of one prescription, in the caller's transaction, whose event
    outdates the patient's stored clinic row (a check-in's correction)."""
    _rebuild([prescription_id], now)


def _rebuild(batch: list[int], now: datetime):
    AdherenceDay.objects.filter(prescription_id__in=batch).delete()
    counts = {(r.prescription_id, r.local_date): r for r in check_in_counts(batch)}
    sources = sources_for(batch)
    _write(list(sources.values()), dict.fromkeys(sources, EPOCH), now, counts=counts)
    return sources.values()
