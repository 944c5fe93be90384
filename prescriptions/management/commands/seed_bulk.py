"""Fills a clinic with many patients checking in over many days, with bulk inserts, for
the benchmarks in bench/ (never for a clinic in use).

    manage.py seed_bulk --patients 10000 --days 90 [--clinic bulk] [--zones UTC,Asia/Kolkata]

Each patient has one prescription from `days` days ago (morning 07:00, bedtime 22:00 in
their zone) and checks in every morning; patient i skips the bedtime session on days
where (i + day) % 3 == 0, and reports pain that drifts with i. The ledger is then written
for every prescription. A progress bar goes to stderr.
"""

import sys
import time as clock
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from clinic.models import Clinic, User
from patients.models import Patient
from prescriptions.adherence import ledger_rebuild
from prescriptions.models import (
    EPOCH,
    CheckIn,
    Prescription,
    PrescriptionSlot,
    Protocol,
    ScheduleChange,
    StatusChange,
)
from prescriptions.schedule import checkin_local_date, local_instant, local_midnight

SLOTS = [("morning", time(7)), ("bedtime", time(22))]
# Patients made per transaction: bounded memory whatever the size.
CHUNK = 500


class Progress:
    def __init__(self, label: str, total: int):
        self.label, self.total, self.done, self.out = label, total, 0, sys.stderr
        self.began = clock.perf_counter()

    def __call__(self, n: int) -> None:
        self.done += n
        width = 30
        filled = width * self.done // max(self.total, 1)
        elapsed = clock.perf_counter() - self.began
        self.out.write(
            f"\r{self.label:<10} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done}/{self.total} {elapsed:5.0f} s"
        )
        if self.done >= self.total:
            self.out.write("\n")
        self.out.flush()


def seed(clinic, clinician, n: int, *, start: date, days: int, zones: list[str], progress=None):
    """`n` patients of `clinic`, each on a prescription from `start` with `days` days of
    check-ins; answers the patients. Ledger not written (see `ledger_rebuild`)."""
    protocol = Protocol.objects.get(slug="knee-rocks")
    prefix = f"bulk-{clinic.slug}"
    first = Patient.objects.filter(clinic=clinic).count()
    made = []
    for offset in range(0, n, CHUNK):
        with transaction.atomic():
            made += _chunk(
                clinic,
                clinician,
                protocol,
                prefix,
                range(first + offset, first + min(n, offset + CHUNK)),
                start=start,
                days=days,
                zones=zones,
            )
        if progress:
            progress(min(CHUNK, n - offset))
    return made


def _chunk(clinic, clinician, protocol, prefix, numbers, *, start, days, zones):
    users = User.objects.bulk_create(
        User(username=f"{prefix}-{i}@example.test", role=User.Role.PATIENT, clinic=clinic)
        for i in numbers
    )
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            user=user,
            first_name=f"First{i:05d}",
            last_name=f"Last{i:05d}",
            email=user.username,
            timezone=zones[i % len(zones)],
        )
        for i, user in zip(numbers, users, strict=True)
    )
    prescriptions = Prescription.objects.bulk_create(
        Prescription(patient=p, protocol=protocol, clinician=clinician, start_date=start)
        for p in patients
    )
    # Written when they began, not now: the first day's slots are all asked for
    # (docs/definitions.md, Expected session). auto_now_add overrides it on insert.
    for rx, p in zip(prescriptions, patients, strict=True):
        rx.created_at = local_midnight(start, ZoneInfo(p.timezone))
    Prescription.objects.bulk_update(prescriptions, ["created_at"], batch_size=2000)
    PrescriptionSlot.objects.bulk_create(
        PrescriptionSlot(prescription=rx, kind=kind, time=at)
        for rx in prescriptions
        for kind, at in SLOTS
    )
    slots = [[kind, at.strftime("%H:%M")] for kind, at in SLOTS]
    ScheduleChange.objects.bulk_create(
        ScheduleChange(prescription=rx, effective_at=EPOCH, timezone=p.timezone, slots=slots)
        for rx, p in zip(prescriptions, patients, strict=True)
    )
    StatusChange.objects.bulk_create(
        StatusChange(
            prescription=rx,
            status="active",
            effective_at=local_midnight(start, ZoneInfo(p.timezone)),
        )
        for rx, p in zip(prescriptions, patients, strict=True)
    )
    now = timezone.now()
    check_ins = []
    for i, rx, p in zip(numbers, prescriptions, patients, strict=True):
        tz = ZoneInfo(p.timezone)
        for d in range(days):
            day = start + timedelta(days=d)
            for kind, at in SLOTS:
                if kind == "bedtime" and (i + d) % 3 == 0:
                    continue
                performed_at = local_instant(day, at, tz) + timedelta(minutes=5)
                if performed_at > now:
                    continue
                pain = 3 + (i + d) % 5
                check_ins.append(
                    CheckIn(
                        prescription=rx,
                        patient=p,
                        slot=kind,
                        performed_at=performed_at,
                        timezone=tz.key,
                        local_date=checkin_local_date(performed_at, tz, kind),
                        duration_minutes=5,
                        pain_before=pain,
                        pain_after=max(pain - 1, 0),
                    )
                )
    CheckIn.objects.bulk_create(check_ins, batch_size=5000)
    return patients


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True)
        parser.add_argument("--days", type=int, required=True)
        parser.add_argument("--clinic", default="bulk", help="slug (created when missing)")
        parser.add_argument("--zones", default="UTC", help="comma-separated IANA zones")

    def handle(self, *args, patients, days, clinic, zones, **options):
        if patients < 1 or days < 1:
            raise CommandError("--patients and --days must be at least 1.")
        zones = [z.strip() for z in zones.split(",") if z.strip()]
        the_clinic, _ = Clinic.objects.get_or_create(
            slug=clinic, defaults={"name": f"Bulk clinic {clinic}", "timezone": zones[0]}
        )
        clinician, _ = User.objects.get_or_create(
            username=f"bulk.dr@{clinic}.example.test",
            defaults={"role": User.Role.CLINICIAN, "clinic": the_clinic},
        )
        start = timezone.now().date() - timedelta(days=days - 1)
        made = seed(
            the_clinic,
            clinician,
            patients,
            start=start,
            days=days,
            zones=zones,
            progress=Progress("patients", patients),
        )
        ids = list(
            Prescription.objects.filter(patient__clinic=the_clinic, patient__in=made).values_list(
                "id", flat=True
            )
        )
        ledger_rebuild(prescription_ids=ids, progress=Progress("ledger", len(ids)))
        if connection.vendor == "postgresql":
            # What autovacuum does after a load this size: fresh statistics (without them
            # the planner takes the new tables for empty) and the visibility map (without
            # it an index-only scan reads the table too). VACUUM cannot run in a
            # transaction (a test's).
            vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                cursor.execute(vacuum)
        self.stdout.write(
            f"{patients} patients x {days} days in {clinic}: "
            f"{CheckIn.objects.filter(patient__clinic=the_clinic).count()} check-ins."
        )
