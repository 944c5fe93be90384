"""Protocols, prescriptions, their reminder times and the histories of their status and
schedule."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models

from prescriptions.schedule import local_today

# "From the beginning" in the ledger's bookkeeping: a prescription whose ledger was never
# written is written from its start.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# "Slot" is a session's place in the patient's day. `SlotKind` names the sessions that get
# a reminder time; `CheckInSlot` the sessions a check-in can be for (those, plus night and
# other, which are never reminded); a `PrescriptionSlot` row is one reminder time of one
# prescription, and `services.SlotTime` the same as a write takes it.


class SlotKind(models.TextChoices):
    """The times of day a prescription reminds the patient of."""

    MORNING = "morning"
    BEDTIME = "bedtime"


class CheckInSlot(models.TextChoices):
    MORNING = "morning"
    BEDTIME = "bedtime"
    NIGHT = "night"
    OTHER = "other"


def heat_minutes(heat_prep: bool, protocol_heat_minutes: int) -> int:
    """Minutes of heat before the bedtime session: the protocol's, when prescribed."""
    return protocol_heat_minutes if heat_prep else 0


class RedFlag(models.TextChoices):
    """Symptoms that call for stopping the exercise and seeing a clinician promptly."""

    NUMBNESS_GROIN = "numbness_groin", "Numbness in the groin or saddle area"
    BLADDER_BOWEL = "bladder_bowel", "New bladder or bowel control problems"
    LEG_WEAKNESS = "leg_weakness", "New or worsening leg weakness"
    FEVER = "fever", "Fever"
    AFTER_FALL = "after_fall", "Pain began after a fall or injury"
    WEIGHT_LOSS = "weight_loss", "Unexplained weight loss"
    NIGHT_PAIN_CONSTANT = "night_pain_constant", "Severe night pain no position eases"


class Protocol(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    summary = models.TextField()
    steps = models.JSONField(default=list)
    cautions = models.JSONField(default=list)
    # [{"kind": "morning", "time": "07:00"}, …] offered when a prescription names no slots.
    default_slots = models.JSONField(default=list)
    range_limit_degrees = models.PositiveSmallIntegerField()
    heat_prep_minutes = models.PositiveSmallIntegerField()
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.name


def status_read(stored: str, end_date: date | None, today: date) -> str:
    """The status a prescription reads on the patient's local `today`: the stored one,
    except that once the local day after its end date has begun it reads ended."""
    if end_date is not None and end_date < today:
        return Prescription.Status.ENDED
    return stored


class PrescriptionQuerySet(models.QuerySet):
    def reading(self, status: str, now: datetime | None = None) -> "PrescriptionQuerySet":
        """The prescriptions that read `status` now (see `status_read`).

        Whether an end date has passed depends on each patient's zone, but only for end
        dates within a day of the UTC date: those few rows are judged in Python, in one
        query however many prescriptions there are.
        """
        now = now or datetime.now(UTC)
        utc_today = now.astimezone(UTC).date()
        # Local dates run from a day behind UTC to a day ahead (offsets -12 to +14 hours).
        passed = models.Q(end_date__lt=utc_today - timedelta(days=1))
        unsure = self.filter(end_date__range=(utc_today - timedelta(days=1), utc_today))
        passed |= models.Q(
            id__in=[
                pk
                for pk, end_date, zone in unsure.values_list("id", "end_date", "patient__timezone")
                if end_date < local_today(ZoneInfo(zone), now)
            ]
        )
        if status == Prescription.Status.ENDED:
            return self.filter(passed | models.Q(status=status))
        return self.filter(status=status).exclude(passed)


class Prescription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"
        ENDED = "ended"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="prescriptions"
    )
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="prescriptions")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prescriptions"
    )
    # A cache of the status now, written only by `services.prescription_status_change`
    # (and `prescription_create`); StatusChange is the record of when each change took
    # effect, and the answer for any other instant.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    as_needed = models.BooleanField(default=True)
    heat_prep = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The adherence ledger holds every session of this prescription due before this instant
    # (see adherence/ledger/); the tick writes on once it has passed.
    ledger_until = models.DateTimeField(default=EPOCH, db_index=True)

    objects = PrescriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="prescription_ends_after_start",
            )
        ]
        # A patient's prescriptions by start, either way: the probes of the current one
        # (adherence/current_sql.py) read the first that answers, without a sort.
        indexes = [models.Index(fields=["patient", "start_date", "id"])]

    def __str__(self) -> str:
        return f"{self.protocol.slug} for patient {self.patient_id}"

    @property
    def zone(self) -> ZoneInfo:
        return self.patient.zone

    @property
    def heat_minutes(self) -> int:
        return heat_minutes(self.heat_prep, self.protocol.heat_prep_minutes)

    @property
    def current_status(self) -> str:
        """What the prescription reads now: past its end date it has ended (the stored
        `status` changes only when a clinician acts, and the end date stays the record)."""
        return status_read(self.status, self.end_date, local_today(self.zone))


class PrescriptionSlot(models.Model):
    """One reminder time of a prescription, with the next instant it is due to fire."""

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="slots")
    kind = models.CharField(max_length=16, choices=SlotKind.choices)
    time = models.TimeField()
    # UTC; null when nothing is left to remind (ended, or past end_date).
    next_fire_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["time", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["prescription", "kind"], name="one_slot_per_kind")
        ]


class StatusChange(models.Model):
    """History of a prescription's status: which instants it was active, paused, ended."""

    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="status_changes"
    )
    status = models.CharField(max_length=16, choices=Prescription.Status.choices)
    effective_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    reason = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective_at", "id"]
        indexes = [models.Index(fields=["prescription", "effective_at"])]


class PlanChange(models.Model):
    """A change of a prescription's plan (its times, dates, heat, notes, night sessions):
    who made it, when, and each field before → after. Status changes (pause, resume, end)
    are StatusChange rows; the two together are the prescription's history."""

    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="plan_changes"
    )
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # {"heat_prep": [false, true], "slots": [[{"kind": …, "time": "HH:MM"}], […]], …}
    fields = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["prescription", "at"])]


class ScheduleChange(models.Model):
    """The slots and time zone a prescription's sessions follow from `effective_at` on.

    Expected sessions are worked out from this history, never from the current slots
    alone, so a change made today leaves the sessions already expected as they were.
    """

    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="schedule_changes"
    )
    # EPOCH for the schedule the prescription began with.
    effective_at = models.DateTimeField()
    timezone = models.CharField(max_length=64)
    # [["morning", "07:00"], …]
    slots = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective_at", "id"]
        indexes = [models.Index(fields=["prescription", "effective_at"])]
