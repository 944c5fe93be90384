"""The ranges a report may cover, its rounding, and what the alert rules read from the
ledger (ledger/) besides the patients' figures: each patient's ledger rows by date (one per
prescription, with the instant each session fell due and the check-ins of that day) and
when each prescription was active. No figure is worked out here: every one is the clinic
table's statement's (patient_report.py). The definitions are those of docs/definitions.md.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce

import prescriptions.adherence.ledger as ledger
from clinic.models import User
from patients.models import Patient
from prescriptions.adherence.timeline import Timeline
from prescriptions.models import (
    AdherenceDay,
    Alert,
    Prescription,
    ScheduleChange,
)
from prescriptions.schedule import db_date

DEFAULT_RANGE_DAYS = 28
MAX_RANGE_DAYS = 366
# The clinic table shows each patient's last week beside the whole range.
RECENT_WEEK_DAYS = 7
MEANINGFUL_PAIN_CHANGE = Decimal(2)


def round1(numerator, denominator) -> Decimal | None:
    """numerator / denominator to one decimal, halves rounded up (4.25 → 4.3)."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def default_range(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_RANGE_DAYS - 1), today


def resolve_range(today: date, start: date | None, end: date | None) -> tuple[date, date]:
    """The range a caller asked for, either end optional: by default the 28 days up to
    today (or up to `start` when that lies ahead). Raises ValidationError naming the field."""
    chosen_end = end is not None
    if end is None:
        end = max(today, start) if start else today
    if start is None:
        start = default_range(end)[0]
        blame = "to"
    else:
        # Blame the end the caller chose, `to` when they chose both.
        blame = "to" if chosen_end else "from"
    if start > end:
        raise ValidationError({"from": "`from` must not be after `to`."})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationError({blame: f"The range may cover at most {MAX_RANGE_DAYS} days."})
    return start, end


def dates_between(start: date, end: date):
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


class DayRow(NamedTuple):
    """One prescription's local date, as the ledger has it."""

    prescription_id: int
    active: bool
    morning_due_at: datetime | None
    bedtime_due_at: datetime | None
    morning: int
    bedtime: int
    night: int
    total: int
    pain_sum: int
    pain_rises: int


@dataclass
class PatientData:
    patient: Patient
    tz: ZoneInfo
    timelines: list[Timeline] = field(default_factory=list)
    days: dict[date, list[DayRow]] = field(default_factory=lambda: defaultdict(list))

    # Their figures by adherence's engine (patient_report.patients_figures): over their
    # default range, and over the last full week before today (what the alert rules weigh).
    report: dict = field(default_factory=dict)
    last_full_week: dict = field(default_factory=dict)

    def checked_in(self, day: date) -> bool:
        return any(r.total for r in self.days.get(day, ()))

    def active_on(self, prescription_id: int, day: date) -> bool:
        """Whether the prescription's day is an active day, as the ledger wrote it."""
        return any(r.active for r in self.days.get(day, ()) if r.prescription_id == prescription_id)

    def days_with_pain_rise(self, start: date, end: date) -> list[date]:
        return sorted(
            day
            for day, rows in self.days.items()
            if start <= day <= end and any(r.pain_rises for r in rows)
        )


def report_data(
    patients: list[Patient], *, start: date, end: date, now: datetime, behind: list[int]
) -> dict[int, PatientData]:
    """The ledger's days `start` to `end` of these patients (by date), and when each of their
    prescriptions was active: what the alert rules read besides the patients' figures.
    `behind`: those of the patients whose ledger must first be caught up (none, normally).
    Two queries however many patients: the prescriptions with their status history, and
    the days."""
    data = {p.id: PatientData(patient=p, tz=p.zone) for p in patients}
    if behind:
        ledger.ledger_catch_up(patient_ids=behind, now=now)
    timelines = {}
    first_schedule = ScheduleChange.objects.filter(prescription_id=OuterRef("id"))
    # A row per status change, oldest first (one with none for a prescription without).
    rows = (
        Prescription.objects.filter(patient_id__in=list(data))
        .annotate(
            began_in=Subquery(first_schedule.order_by("effective_at", "id").values("timezone")[:1])
        )
        .order_by("id", "status_changes__effective_at", "status_changes__id")
        .values_list(
            "id",
            "patient_id",
            "start_date",
            "end_date",
            "began_in",
            "status_changes__status",
            "status_changes__effective_at",
        )
    )
    for prescription_id, patient_id, start_date, end_date, began_in, status, at in rows:
        if prescription_id not in timelines:
            patient = data[patient_id]
            zone = ZoneInfo(began_in) if began_in else None
            timeline = Timeline(prescription_id, start_date, end_date, patient.tz, zone)
            patient.timelines.append(timeline)
            timelines[prescription_id] = timeline
        if status is not None:
            timelines[prescription_id].add_change(status, at)
    days = (
        AdherenceDay.objects.filter(patient_id__in=list(data), local_date__range=(start, end))
        .order_by()
        .values_list("patient_id", "local_date", *DAY_FIELDS)
    )
    for row in days:
        data[row[0]].days[db_date(row[1])].append(DayRow._make(row[2:]))
    return data


DAY_FIELDS = (
    "prescription_id",
    "active",
    "morning_due_at",
    "bedtime_due_at",
    "morning_check_ins",
    "bedtime_check_ins",
    "night_check_ins",
    "check_ins",
    "pain_before_sum",
    "pain_rises",
)


def clinic_patients(clinic_id: int, *, archived: bool = False):
    """The clinic's patients in care (or the archived ones) with what the clinic's pages
    filter them on besides the figures (open alerts, a red flag) and whether they have
    activated their account."""
    open_alerts = (
        Alert.objects.filter(patient=OuterRef("pk"), acknowledged_at__isnull=True)
        .order_by()
        .values("patient")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Patient.objects.filter(clinic_id=clinic_id, archived_at__isnull=not archived)
        .only("id", "first_name", "last_name", "timezone", "clinic_id")
        .annotate(
            open_alerts=Coalesce(Subquery(open_alerts), 0),
            red_flag_open=Exists(
                Alert.objects.filter(
                    patient=OuterRef("pk"), kind=Alert.Kind.RED_FLAG, acknowledged_at__isnull=True
                )
            ),
            # A subquery rather than a join: the clinic table's sums do not read it.
            activated=Exists(User.objects.filter(pk=OuterRef("user_id"), is_active=True)),
        )
    )
