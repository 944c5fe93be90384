"""Invitation links: the token in the link, found again by its SHA-256 digest (the only
form stored), and the email that carries it. The link's token is made by the task that
sends it (clinic.tasks), so it never travels through the broker."""

import hashlib
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from clinic.models import Invitation, User

INVITATION_UNUSABLE = (
    "This invitation link has been used or has expired. Ask the clinic for a new one."
)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def join_url(token: str) -> str:
    return f"{settings.SITE_URL}/join/{token}/"


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


@transaction.atomic
def invitation_send(*, invitation_id: int) -> bool:
    """Gives the invitation a fresh token and emails its link; False when it can no longer
    be used. A send that fails rolls the token back, and a retry makes another."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("clinic", "invited_by")
        .filter(id=invitation_id, used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None:
        return False
    token, invitation.token_digest = new_token()
    invitation.save(update_fields=["token_digest"])
    subject, body = invitation_email(invitation, token)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    return True


def invitation_find(token: str) -> Invitation | None:
    """The invitation when it can still be used; None when unknown, used or expired."""
    return (
        Invitation.objects.select_related("clinic", "invited_by")
        .filter(
            token_digest=token_digest(token), used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .first()
    )


def invitation_user(invitation: Invitation) -> User:
    """The account an invitation makes, unsaved (to check a password against it)."""
    return User(
        username=invitation.email,
        email=invitation.email,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        role=invitation.role,
        clinic_id=invitation.clinic_id,
    )


def invitation_email(invitation: Invitation, token: str) -> tuple[str, str]:
    """The invitation's subject and plain-text body."""
    inviter = invitation.invited_by.get_full_name() or invitation.invited_by.username
    hours = int(settings.INVITATION_TTL.total_seconds() // 3600)
    subject = f"Join {invitation.clinic.name} on Knee Rocks"
    body = "\n\n".join(
        [
            f"Hello {invitation.first_name},",
            f"{inviter} invited you to join {invitation.clinic.name} on Knee Rocks as "
            f"{'a clinician' if invitation.role == User.Role.CLINICIAN else 'a staff member'}.",
            f"Open this link to choose your password and sign in:\n{join_url(token)}",
            f"The link works once, for {hours} hours. Your username will be {invitation.email}.",
            "If you did not expect this email, you can ignore it: nothing happens unless "
            "the link is opened and a password chosen.",
        ]
    )
    return subject, body + "\n"
