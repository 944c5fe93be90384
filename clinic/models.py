from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken, AuthTokenManager


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
    # Clinicians and staff must confirm a second factor before they reach anything.
    require_second_factor = models.BooleanField(default=False)
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

    @property
    def is_clinic_team(self) -> bool:
        return self.role in (self.Role.CLINICIAN, self.Role.STAFF)


class Heartbeat(models.Model):
    """The last time a periodic process proved it was alive (read by /healthz)."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    @classmethod
    def beat(cls, name: str, at) -> None:
        cls.objects.update_or_create(name=name, defaults={"at": at})


def pointer_of_record(model) -> models.ForeignKey:
    """A record's link to a user or a clinic, without a database constraint: a record must
    outlive anything it points at (nothing is deleted anyway), and checking the constraint
    cost more than writing the record (each row of a 10,000-patient export checked its user
    at commit: 33 of 85 ms)."""
    return models.ForeignKey(
        model,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )


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
    actor = pointer_of_record(User)
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


class SignIn(models.Model):
    """One signed-in device: an API token or a web session, listed to its owner so that
    they can see where they are signed in and end any of it.

    The token or the session itself is what lets requests in; ending a sign-in deletes it
    (clinic.sign_ins), and the row stays as a record with `ended_at`.
    """

    class Kind(models.TextChoices):
        TOKEN = "token"
        SESSION = "session"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="sign_ins")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    # A web session's key, to end it from another device.
    session_key = models.CharField(max_length=40, blank=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at"], name="sign_in_by_user")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class ApiTokenManager(AuthTokenManager):
    def get_queryset(self):
        # Authentication reads the sign-in with the token in one query (its last use).
        return super().get_queryset().select_related("sign_in")


class ApiToken(AbstractAuthToken):
    """knox's token (KNOX_TOKEN_MODEL) with the sign-in it belongs to."""

    sign_in = models.OneToOneField(SignIn, on_delete=models.CASCADE, related_name="api_token")

    objects = ApiTokenManager()

    def save(self, *args, **kwargs):
        # A token made without one (tests, benchmarks) still shows in its owner's list.
        if self.sign_in_id is None:
            self.sign_in = SignIn.objects.create(
                user=self.user,
                kind=SignIn.Kind.TOKEN,
                expires_at=self.expiry,
                last_used_at=timezone.now(),
            )
        super().save(*args, **kwargs)


class SecurityEvent(models.Model):
    """The clinic's security log: sign-ins, lockouts, passwords, second factors and the
    team's changes. Append-only like the audit trail (a database trigger, migration 0004);
    never a password, a code or a token."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in"
        SIGN_IN_FAILED = "sign_in_failed"
        LOCKED_OUT = "locked_out"
        PASSWORD_RESET_REQUESTED = "password_reset_requested"
        PASSWORD_RESET = "password_reset"
        PASSWORD_CHANGED = "password_changed"
        SECOND_FACTOR_ADDED = "second_factor_added"
        SECOND_FACTOR_REMOVED = "second_factor_removed"
        INVITED = "invited"
        JOINED = "joined"
        ROLE_CHANGED = "role_changed"
        DEACTIVATED = "deactivated"
        REACTIVATED = "reactivated"
        SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
        CLINIC_CHANGED = "clinic_changed"

    at = models.DateTimeField(default=timezone.now)
    # Null when the event belongs to no clinic (a username nobody has, an administrator).
    clinic = pointer_of_record(Clinic)
    event = models.CharField(max_length=32, choices=Kind.choices)
    # Whom it is about, and who did it (the same person for their own sign-in).
    user = pointer_of_record(User)
    actor = pointer_of_record(User)
    # What was typed at a failed sign-in (it may be nobody's username).
    username_tried = models.CharField(max_length=150, blank=True)
    address = models.CharField(max_length=64, blank=True)
    # A little context without secrets: the way in ("api", "web"), a role's before/after.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "-at", "-id"], name="security_by_clinic")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.event}"


class TransactionId(models.Func):
    """The id of the transaction writing the row, on PostgreSQL (its 64-bit xid8, which
    never wraps, as a bigint); null elsewhere. An Event's `xid` column default."""

    template = "NULL"
    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_current_xact_id()::text::bigint)", []


class Event(models.Model):
    """Something that happened to a clinic's clinical data, written in the transaction of
    the change itself (an outbox): a change that rolls back leaves none, a committed one
    always has one. Read by the event feed (`events/`) and, later, the clinic's webhooks.

    The types are listed once, in clinic/events.py (not as `choices` here: a new type needs
    no migration). `data` holds ids only, never a name, a note or a symptom. Append-only
    like the audit trail (a database trigger, migration 0007).
    """

    id = models.BigAutoField(primary_key=True)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    type = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict)
    # The writing transaction's id (PostgreSQL; null on SQLite), set by the database: the
    # feed answers an event once every transaction that could precede it has ended
    # (clinic.events.after).
    xid = models.BigIntegerField(null=True, editable=False, db_default=TransactionId())

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "id"], name="event_by_clinic"),
            models.Index(fields=["clinic", "xid", "id"], name="event_feed_order"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"


class Invitation(models.Model):
    """A clinician's invitation to join the clinic's team, sent by email as a link to
    `/join/{token}/`; only the token's SHA-256 digest is stored.

    The account is made when the invited person joins, not when they are invited: until
    then nobody exists who could be listed, deactivated or signed in, and an invitation
    that is never taken up leaves no half-made account behind. `user` is who it became.
    """

    class Role(models.TextChoices):
        CLINICIAN = "clinician"
        STAFF = "staff"

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField()
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="invitation"
    )

    class Meta:
        indexes = [models.Index(fields=["clinic", "email"], name="invitation_by_email")]

    def __str__(self) -> str:
        return f"{self.email} as {self.role} of {self.clinic}"
