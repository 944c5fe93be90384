import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models


class Patient(models.Model):
    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.PROTECT, related_name="patients")
    # Created at enrolment, inactive until the patient activates with their code.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patient"
    )
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    email = models.EmailField(unique=True)
    phone = models.CharField(max_length=32, blank=True)
    timezone = models.CharField(max_length=64)
    # Part of the signed calendar-feed URL: raising it (a reset) kills every older URL.
    calendar_feed_version = models.PositiveIntegerField(default=1)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enrolled_patients",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # An archived patient (discharged, moved away) is reminded of nothing, raises no alerts
    # and leaves the clinic's lists, while every record stays: nothing clinical is deleted.
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Why the patient left the clinic's care, as the clinician said when archiving.
    archive_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def zone(self) -> ZoneInfo:
        """The patient's IANA zone: their local dates and reminder times are read in it."""
        return ZoneInfo(self.timezone)


class ActivationCode(models.Model):
    """A one-time enrolment code; only its SHA-256 digest is stored."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="activation_codes")
    code_digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class ReminderPreference(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"
        WEBHOOK = "webhook"
        NONE = "none"

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, related_name="reminder_preference"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret)
    updated_at = models.DateTimeField(auto_now=True)
