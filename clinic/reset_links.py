"""Password-reset links: made in the worker for the email, read back by the API and the
page that sets the new password.

A link is `{SITE_URL}/reset/{uid}/{token}/`, the token Django's `default_token_generator`'s:
an HMAC of the user's password hash, last sign-in and email with a timestamp. Nothing is
stored. It stops working after PASSWORD_RESET_TIMEOUT, and once used, since the password
it was made from is gone.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from clinic.models import User


def may_reset(user: User) -> bool:
    """Whether a reset email may go to this user: not a deactivated team member, not a
    patient who has not activated their account (their way in is the clinic's code)."""
    return user.is_active and user.has_usable_password() and bool(user.email)


def reset_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.SITE_URL}/reset/{uid}/{token}/"


def reset_link_user(uid: str, token: str, *, for_update: bool = False) -> User | None:
    """The user a link is for, while it works; None for a used, expired or altered one.

    With `for_update` the user's row stays locked until the transaction ends: of two
    requests with the same link, the second reads the new password and finds it used."""
    users = User.objects.select_for_update() if for_update else User.objects
    try:
        user = users.get(pk=force_str(urlsafe_base64_decode(uid)), is_active=True)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist, ValidationError):
        return None
    if not default_token_generator.check_token(user, token):
        return None
    return user


def password_reset_email_send(*, user_id: int | None) -> bool:
    """Emails the user a fresh link; nothing for None (an address nobody has, or one asked
    about too often). Answers whether an email went."""
    if user_id is None:
        return False
    user = User.objects.filter(id=user_id).first()
    if user is None or not may_reset(user):
        return False
    context = {
        "user": user,
        "link": reset_link(user),
        "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        "ask_again": f"{settings.SITE_URL}/{'my' if user.is_patient else 'staff'}/password-reset/",
    }
    send_mail(
        subject=render_to_string("emails/password_reset_subject.txt", context).strip(),
        message=render_to_string("emails/password_reset.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True
