"""Passwords, for every role: a reset by email link when forgotten, a change when signed in.
The API (clinic/api/passwords.py) and the web pages (clinic/password_web.py) both come here.

Setting a password ends the user's other sign-ins: whoever knew the old one (the reason to
reset it, often) is out at once.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from clinic import reset_links, security_log, services, sign_ins
from clinic.models import User
from clinic.tasks import send_password_reset

Event = security_log.Event

LINK_UNUSABLE = (
    "This link no longer works: it was used already, it ran out after an hour, or part of "
    "it was lost when it was copied. Ask for a new one."
)
WRONG_PASSWORD = "This is not your current password."
EMAIL_WINDOW_SECONDS = 60 * 60


def _email_key(email: str) -> str:
    # Hashed: the cache holds no one's address, and a cache key must not hold just anything.
    return f"password-reset-email:{hashlib.sha256(email.encode()).hexdigest()[:32]}"


def _count_request(email: str) -> int:
    """This hour's requests for the address, this one included."""
    return services.count_in_window(_email_key(email), EMAIL_WINDOW_SECONDS)


@transaction.atomic
def password_reset_request(*, email: str, address: str, way: str = "api") -> None:
    """Emails the owner of the address a reset link, if there is an owner who may have one.

    The caller answers the same whatever happened here, and the work is the same on every
    path (one count, one lookup, one task queued, None when nothing is to be sent), so that
    neither the answer nor its time tells whether the address belongs to anyone. Past
    PASSWORD_RESET_EMAILS_PER_HOUR requests for one address, nothing more is sent.
    """
    email = email.strip().lower()
    within_limit = _count_request(email) <= settings.PASSWORD_RESET_EMAILS_PER_HOUR
    # A patient's email is unique among users (it is their username); a team member's too
    # when it is theirs. Should two accounts ever share one, the oldest is the owner.
    owner = User.objects.filter(email__iexact=email, is_active=True).order_by("id").first()
    sends = owner is not None and within_limit and reset_links.may_reset(owner)
    if sends:
        security_log.record(Event.PASSWORD_RESET_REQUESTED, user=owner, address=address, way=way)
    send_password_reset.delay_on_commit(owner.id if sends else None)


def _new_password_errors(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        return error.messages
    return []


@transaction.atomic
def password_reset_confirm(
    *, uid: str, token: str, new_password: str, address: str, way: str = "api"
) -> User:
    """Sets the password from a reset link and ends every sign-in of the user. Raises
    ValidationError naming `token` (the link does not work) or `new_password` (too weak)."""
    user = reset_links.reset_link_user(uid, token, for_update=True)
    if user is None:
        raise ValidationError({"token": LINK_UNUSABLE})
    if errors := _new_password_errors(new_password, user):
        raise ValidationError({"new_password": errors})
    user.set_password(new_password)
    user.save(update_fields=["password"])
    sign_ins.sign_ins_end(user=user)
    security_log.record(Event.PASSWORD_RESET, user=user, address=address, way=way)
    return user


@transaction.atomic
def password_change(
    *,
    user: User,
    old_password: str,
    new_password: str,
    keep_sign_in: int | None,
    address: str,
    way: str = "api",
) -> User:
    """A signed-in user's new password; their sign-ins end but `keep_sign_in` (the one in
    use). Raises ValidationError naming `old_password` or `new_password`. Answers the user
    as saved: a web session keeps itself signed in with it (update_session_auth_hash)."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    errors = {}
    if not locked.check_password(old_password):
        errors["old_password"] = [WRONG_PASSWORD]
    if new_errors := _new_password_errors(new_password, locked):
        errors["new_password"] = new_errors
    if errors:
        raise ValidationError(errors)
    locked.set_password(new_password)
    locked.save(update_fields=["password"])
    sign_ins.sign_ins_end(user=locked, keep=keep_sign_in)
    security_log.record(Event.PASSWORD_CHANGED, user=locked, actor=locked, address=address, way=way)
    return locked
