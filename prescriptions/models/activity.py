"""What happens under a prescription: check-ins, alerts, reminders and their bookkeeping."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models

from prescriptions.models.prescription import CheckInSlot, Prescription, SlotKind

# A session whose pain rose by this much is one the patient should ease off.
SESSION_PAIN_RISE = 2
# The same rule for the database: check-ins whose pain rose by SESSION_PAIN_RISE or more.
PAIN_ROSE = models.Q(pain_after__gte=models.F("pain_before") + SESSION_PAIN_RISE)


class CheckIn(models.Model):
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="check_ins"
    )
    # Denormalised from the prescription so clinic-wide reports group without a join.
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="check_ins"
    )
    slot = models.CharField(max_length=16, choices=CheckInSlot.choices)
    performed_at = models.DateTimeField()
    # The patient's zone when the session was done, so that it reads in the local time it
    # was done at after the patient moves (a bedtime in Darwin stays 22:20 Darwin time).
    # "" only on rows written around the services (seeds, factories): read as the
    # patient's zone.
    timezone = models.CharField(max_length=64, blank=True)
    # The patient's local date the session counts for (bedtime before 04:00 → previous day).
    local_date = models.DateField()
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_before = models.PositiveSmallIntegerField()
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True)
    heat_used = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    red_flags = models.JSONField(default=list, blank=True)
    # What the patient was told after this check-in ("" when nothing needed saying).
    advice = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "local_date"]),
            models.Index(fields=["prescription", "local_date", "slot"]),
            # The clinic report's "last check-in" of each patient: one index probe each.
            models.Index(fields=["patient", "-performed_at"], name="checkin_patient_latest"),
        ]

    @property
    def zone(self) -> ZoneInfo:
        """The zone the session was done in (the patient's, for rows that lack it)."""
        return ZoneInfo(self.timezone or self.patient.timezone)

    @property
    def pain_rose(self) -> bool:
        return (
            self.pain_after is not None and self.pain_after - self.pain_before >= SESSION_PAIN_RISE
        )


class CheckInCorrection(models.Model):
    """A patient's own correction of a check-in they made by mistake (within a day of
    making it, `checkins.CORRECTION_WINDOW`): what it was, what it became (null when they
    withdrew it), who and when. The check-in holds the corrected values; a withdrawn one
    is deleted, so that every report reads it as never made, and lives on only here."""

    class Kind(models.TextChoices):
        CORRECTED = "corrected"
        WITHDRAWN = "withdrawn"

    # The check-in's id, not a foreign key: the record outlives a withdrawn check-in.
    check_in_id = models.BigIntegerField()
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="check_in_corrections"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="check_in_corrections"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The corrected fields as they were, and as they are after it (null: withdrawn).
    before = models.JSONField()
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["check_in_id"])]


class IdempotencyRecord(models.Model):
    """The first response to a check-in POST, replayed when the same key comes again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_response_per_key")]


class Alert(models.Model):
    class Kind(models.TextChoices):
        LOW_ADHERENCE = "low_adherence", "Low adherence"
        NO_CHECK_IN = "no_check_in", "No check-in"
        PAIN_WORSENING = "pain_worsening", "Pain worsening"
        SESSION_PAIN = "session_pain", "Session pain"
        RED_FLAG = "red_flag", "Red flag"
        # Raised by the outcomes app when a questionnaire score falls back past the
        # meaningful change (it calls outcome_worsening_alert_raise).
        OUTCOME_WORSENING = "outcome_worsening", "Outcome worse than at the start"

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="alerts")
    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the clinician did about it, written when acknowledging.
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="one_open_alert_per_patient_and_kind",
            )
        ]


class Reminder(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        # The channel call has begun: if the worker dies now, the message may or may not
        # have gone out (in doubt); it is sent again under the same Message-ID or
        # Idempotency-Key, so the receiver can drop a repeat.
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"

    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="reminders"
    )
    slot = models.CharField(max_length=16, choices=SlotKind.choices)
    local_date = models.DateField()
    fire_at = models.DateTimeField()
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A delivery attempt holds the reminder until then (its lease): a redelivered task finds
    # it held and sends nothing; once the lease has run out the tick's sweep takes it back.
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fire_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prescription", "slot", "local_date"], name="one_reminder_per_slot_day"
            )
        ]
        indexes = [
            # The tick looks for reminders still waiting; a small slice of a long history.
            models.Index(
                fields=["fire_at"],
                condition=models.Q(status="queued"),
                name="reminder_waiting",
            )
        ]


class DigestClaim(models.Model):
    """One clinician's weekly digest: the unique row is claimed before the email goes out."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_claims"
    )
    week_start = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinician", "week_start"], name="one_digest_per_week")
        ]
