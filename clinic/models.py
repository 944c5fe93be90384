from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


def default_timezone() -> str:
    return settings.TIME_ZONE


# Files that sit beside the zones in the system's tz database without being zones: the
# server's own local time, whatever that happens to be.
NOT_ZONES = frozenset({"localtime", "posixrules"})


@cache
def iana_zones() -> frozenset[str]:
    """The IANA time zones a clinic or a patient can live in."""
    return frozenset(available_timezones()) - NOT_ZONES


class Clinic(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    timezone = models.CharField(max_length=64, default=default_timezone)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        """The clinic's zone: a week or a date range the clinic asks about is read in it."""
        return ZoneInfo(self.timezone)


class User(AbstractUser):
    class Role(models.TextChoices):
        CLINICIAN = "clinician"
        STAFF = "staff"
        PATIENT = "patient"

    role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="") | models.Q(clinic__isnull=False),
                name="user_with_role_belongs_to_clinic",
            )
        ]

    @property
    def is_clinician(self) -> bool:
        return self.role == self.Role.CLINICIAN

    @property
    def is_patient(self) -> bool:
        return self.role == self.Role.PATIENT


class Heartbeat(models.Model):
    """The last time a periodic process proved it was alive (read by /healthz)."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    @classmethod
    def beat(cls, name: str, at) -> None:
        cls.objects.update_or_create(name=name, defaults={"at": at})


class AuditEntry(models.Model):
    """One read or change of one patient's data: who, in which role, what, when, and the
    request id that finds the same request in the logs.

    Append-only: nothing in the code, the API or the admin changes or deletes an entry, and
    a database trigger refuses UPDATE and DELETE on the table (migration 0002).
    """

    class Action(models.TextChoices):
        READ = "read"
        CREATE = "create"
        UPDATE = "update"
        EXPORT = "export"
        ARCHIVE = "archive"

    at = models.DateTimeField(default=timezone.now)
    # Null for a request without a signed-in user (a calendar app reading the secret feed).
    # No constraint in the database: an entry must outlive anything it points at (users
    # are never deleted anyway), and checking it cost more than writing the entry (each
    # row of a 10,000-patient export checked its user at commit: 33 of 85 ms).
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    role = models.CharField(max_length=16)
    # The patient's id, not a foreign key: patients import clinic, never the reverse, and
    # an entry must outlive anything it points at.
    patient_id = models.BigIntegerField()
    action = models.CharField(max_length=16, choices=Action.choices)
    method = models.CharField(max_length=8)
    # The path only: a query string may carry what was searched for (a name).
    path = models.CharField(max_length=300)
    request_id = models.CharField(max_length=64)

    class Meta:
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["patient_id", "-at", "-id"], name="audit_by_patient")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.role} {self.action} patient {self.patient_id}"
