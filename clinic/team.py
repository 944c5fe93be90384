"""The clinic's team: who is in it, inviting someone, joining, changing a member's role or
switching them off, and the clinic's own settings. The API (clinic.api.team) and the pages
(clinic.team_web) both read and write through here.

Each change writes its row and its one security-log entry in one transaction.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import invitations, security_log, sign_ins, tasks
from clinic.models import Clinic, Invitation, User
from clinic.permissions import in_reach

Event = security_log.Event
TEAM_ROLES = (User.Role.CLINICIAN, User.Role.STAFF)

LAST_CLINICIAN = (
    "The clinic needs at least one active clinician: make someone else a clinician first."
)
NOT_YOURSELF = "You cannot switch off your own account; another clinician can."


# --- Reading -----------------------------------------------------------------------------


def team_members(user) -> QuerySet[User]:
    """The caller's clinic's clinicians and staff (never its patients; none for a patient,
    under the one rule of reach), each with `second_factor`: whether they confirmed a TOTP
    device. One query however many members there are."""
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    team = User.objects.filter(role__in=TEAM_ROLES)
    return (
        in_reach(team, user, via="", team_only=True)
        .annotate(second_factor=Exists(confirmed))
        .order_by("-is_active", "last_name", "first_name", "username", "id")
    )


def zone_label(zone_name: str) -> str:
    """How a person names a zone: "America/New_York" is "New York"."""
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


# --- Inviting and joining ----------------------------------------------------------------


def email_in_use(email: str) -> bool:
    """Any user has it, a patient included (a patient's username is their email)."""
    return User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists()


@transaction.atomic
def invitation_create(
    *,
    clinic: Clinic,
    invited_by: User,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    address: str = "",
) -> Invitation:
    """A new invitation, emailed after commit (`invitation_send`). An earlier invitation of
    the same address to this clinic stops working: the newest email is the one to use."""
    email = email.strip().lower()
    if email_in_use(email):
        raise ValidationError({"email": "This email is already in use."})
    now = timezone.now()
    Invitation.objects.filter(clinic=clinic, email=email, used_at__isnull=True).update(
        expires_at=now
    )
    # The link's token is made by the task that sends it, so that it never travels through
    # the broker; until then the row holds the digest of a token nobody has.
    _, placeholder = invitations.new_token()
    invitation = Invitation.objects.create(
        clinic=clinic,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        token_digest=placeholder,
        created_at=now,
        expires_at=now + settings.INVITATION_TTL,
        invited_by=invited_by,
    )
    security_log.record(
        Event.INVITED,
        actor=invited_by,
        address=address,
        invitation=invitation.id,
        email=email,
        role=role,
    )
    tasks.send_invitation.delay_on_commit(invitation.id)
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, address: str = "") -> User:
    """Makes the member's account with their password; an invitation works exactly once.
    The password is checked by the caller (validate_password against invitation_user)."""
    now = timezone.now()
    digest = invitations.token_digest(token)
    # The conditional UPDATE is the claim: of two racing requests only one sees a row count.
    claimed = Invitation.objects.filter(
        token_digest=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        raise ValidationError({"token": invitations.INVITATION_UNUSABLE})
    invitation = Invitation.objects.get(token_digest=digest)
    user = invitations.invitation_user(invitation)
    user.set_password(password)
    try:
        # The address may have been given to someone else (a patient) since the invitation.
        with transaction.atomic():
            if email_in_use(user.username):
                raise IntegrityError
            user.save()
    except IntegrityError:
        raise ValidationError(
            {"token": "This email is now in use by another account. Ask the clinic for help."}
        ) from None
    invitation.user = user
    invitation.save(update_fields=["user"])
    security_log.record(
        Event.JOINED,
        user=user,
        actor=user,
        address=address,
        invitation=invitation.id,
        role=user.role,
    )
    return user


# --- Changing a member -------------------------------------------------------------------


@transaction.atomic
def member_update(
    *,
    member: User,
    by: User,
    role: str | None = None,
    is_active: bool | None = None,
    address: str = "",
) -> User:
    """Changes a member's role or switches their account off or on again.

    Switched off, every token and session of theirs ends in this same transaction: from
    the commit on, nothing they hold lets them in, and Django refuses an inactive user at
    sign-in. What they did stays in the records.
    """
    # The clinic's clinicians are locked (in id order, so every caller locks alike) before
    # counting them: two clinicians demoting each other at the same instant are thus
    # serialised, and the second sees that only one is left.
    clinicians = list(
        User.objects.select_for_update()
        .filter(clinic_id=member.clinic_id, role=User.Role.CLINICIAN)
        .order_by("id")
        .values_list("id", "is_active")
    )
    member = User.objects.select_for_update().get(id=member.id)
    active_clinicians = {id_ for id_, active in clinicians if active}
    if is_active is False and member.id == by.id:
        raise ValidationError({"is_active": NOT_YOURSELF})
    stays_clinician = (role or member.role) == User.Role.CLINICIAN
    stays_active = member.is_active if is_active is None else is_active
    if active_clinicians == {member.id} and not (stays_clinician and stays_active):
        raise ValidationError({"is_active" if stays_clinician else "role": LAST_CLINICIAN})

    changed = []
    if role is not None and role != member.role:
        security_log.record(
            Event.ROLE_CHANGED,
            user=member,
            actor=by,
            address=address,
            before=member.role,
            after=role,
        )
        member.role = role
        changed.append("role")
    if is_active is not None and is_active != member.is_active:
        member.is_active = is_active
        changed.append("is_active")
        if is_active:
            security_log.record(Event.REACTIVATED, user=member, actor=by, address=address)
        else:
            security_log.record(Event.DEACTIVATED, user=member, actor=by, address=address)
            sign_ins.sign_ins_end(user=member)
    if changed:
        member.save(update_fields=changed)
    return member


@transaction.atomic
def clinic_update(
    *,
    clinic: Clinic,
    name: str | None = None,
    timezone_name: str | None = None,
    require_second_factor: bool | None = None,
    by: User | None = None,
    address: str = "",
) -> Clinic:
    changes = {
        "name": name,
        "timezone": timezone_name,
        "require_second_factor": require_second_factor,
    }
    fields = [
        field
        for field, value in changes.items()
        if value is not None and value != getattr(clinic, field)
    ]
    if not fields:
        return clinic
    before = {field: getattr(clinic, field) for field in fields}
    for field in fields:
        setattr(clinic, field, changes[field])
    clinic.save(update_fields=fields)
    # Who turned a second-factor requirement off, and when, is a security question too.
    security_log.record(
        Event.CLINIC_CHANGED,
        actor=by,
        address=address,
        changes={field: [before[field], changes[field]] for field in fields},
    )
    return clinic
