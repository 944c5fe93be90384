from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from knox.models import AuthToken

from clinic.models import User


class SignInLocked(Exception):
    """Too many failed sign-ins for this username; retry after `wait` seconds."""

    def __init__(self, wait: int):
        self.wait = wait


def _failures_key(username: str) -> str:
    return f"sign-in-failures:{username.strip().lower()}"


def _stored_username(username: str) -> str:
    """The username as stored, when only its case differs from what was typed.

    A patient's username is their email, which people type in any case. When two usernames
    differ only by case, the typed one is kept as is.
    """
    stored = User.objects.filter(username__iexact=username.strip())
    matches = list(stored.values_list("username", flat=True)[:2])
    return matches[0] if len(matches) == 1 else username


def user_sign_in(*, username: str, password: str) -> User | None:
    """Checks the credentials, counting failures per username to slow down guessing."""
    key = _failures_key(username)
    if cache.get(key, 0) >= settings.SIGN_IN_MAX_FAILURES:
        raise SignInLocked(settings.SIGN_IN_LOCKOUT_SECONDS)
    user = authenticate(username=_stored_username(username), password=password)
    if user is None:
        cache.add(key, 0, timeout=settings.SIGN_IN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.SIGN_IN_LOCKOUT_SECONDS)
        return None
    cache.delete(key)
    return user


def token_issue(*, user: User) -> tuple[str, datetime]:
    """A new token for one device; the plain token is returned once and stored hashed."""
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry
