from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


def default_timezone() -> str:
    return settings.TIME_ZONE


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
