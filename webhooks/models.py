from django.conf import settings
from django.db import models
from django.utils import timezone

from clinic.models import Clinic, Event


class Endpoint(models.Model):
    """Where a clinic wants its events posted, and which of them (types, or ["*"])."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    # As Standard Webhooks gives it: "whsec_" and the base64 of the key. Kept in clear, as
    # every delivery is signed with it; shown to the clinic once, when it is created.
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The first failed try since the last success: 24 hours of nothing but failures and the
    # endpoint is switched off (disabled_at, disabled_reason) until a clinician turns it on.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "is_active"], name="webhook_endpoint_by_clinic")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class Delivery(models.Model):
    """One event for one endpoint: pending until answered with a 2xx (delivered) or given
    up (failed). A worker holds it while it posts (`lease_until`, `lease_token`)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.DO_NOTHING, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            # The sweep: pending deliveries by the time of their next try.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status="pending"),
            ),
            # The endpoint's log, newest first.
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class Attempt(models.Model):
    """One try at a delivery: when, the receiver's answer (or none), and how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "at"], name="webhook_attempt_by_delivery")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
