"""The adherence ledger: one row per prescription and local date (written by ledger.py)."""

from django.db import models

from prescriptions.models.prescription import Prescription


class AdherenceDay(models.Model):
    """The ledger: one prescription's local date, what it expected and what it got.

    For each slot kind, the instant its session fell due (null: none expected that day),
    with the slot time and zone in force then; whether the day was active; and the
    check-ins dated on it. Written by ledger.py alone, rebuildable from its sources
    (`manage.py rebuild_ledger`).
    """

    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="adherence_days"
    )
    # Denormalised so that clinic reports group by patient without a join.
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="adherence_days"
    )
    local_date = models.DateField()
    timezone = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=False)
    morning_due_at = models.DateTimeField(null=True, blank=True)
    morning_time = models.TimeField(null=True, blank=True)
    bedtime_due_at = models.DateTimeField(null=True, blank=True)
    bedtime_time = models.TimeField(null=True, blank=True)
    # Check-ins of this prescription dated on this day.
    check_ins = models.PositiveIntegerField(default=0)
    morning_check_ins = models.PositiveIntegerField(default=0)
    bedtime_check_ins = models.PositiveIntegerField(default=0)
    night_check_ins = models.PositiveIntegerField(default=0)
    pain_before_sum = models.PositiveIntegerField(default=0)
    # Check-ins whose pain rose by SESSION_PAIN_RISE or more during the session.
    pain_rises = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["local_date", "prescription_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prescription", "local_date"], name="one_adherence_day_per_date"
            )
        ]
        indexes = [models.Index(fields=["patient", "local_date"])]
