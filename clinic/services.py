from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.throttling import BaseThrottle

from clinic.models import User


class SignInLocked(Exception):
    """Too many failed sign-ins from this address; retry after `wait` seconds."""

    def __init__(self, wait: int):
        self.wait = wait


def client_address(request) -> str:
    """The address a request comes from: REMOTE_ADDR, or with `TRUSTED_PROXIES` set, the
    entry of X-Forwarded-For that the nearest trusted proxy wrote. Anything further left
    in that header is the client's own say-so. The same rule as the API's throttles."""
    return BaseThrottle().get_ident(request)


def _failures_key(address: str) -> str:
    return f"sign-in-failures:{address}"


def _stored_username(username: str) -> str:
    """The username as stored, when only its case differs from what was typed.

    A patient's username is their email, which people type in any case. When two usernames
    differ only by case, the typed one is kept as is.
    """
    stored = User.objects.filter(username__iexact=username.strip())
    matches = list(stored.values_list("username", flat=True)[:2])
    return matches[0] if len(matches) == 1 else username


def user_sign_in(*, username: str, password: str, address: str) -> User | None:
    """Checks the credentials, counting failures per client address to stop guessing.

    The lockout falls on the address that guesses, never on the username: counting per
    username would let anyone lock a clinician out by typing wrong passwords for them. A
    success does not clear the count, or an attacker with an account of their own could
    clear it between guesses; the count lapses `SIGN_IN_LOCKOUT_SECONDS` after the last
    failure.
    """
    key = _failures_key(address)
    if cache.get(key, 0) >= settings.SIGN_IN_MAX_FAILURES:
        raise SignInLocked(settings.SIGN_IN_LOCKOUT_SECONDS)
    user = authenticate(username=_stored_username(username), password=password)
    if user is None:
        cache.add(key, 0, timeout=settings.SIGN_IN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
            cache.touch(key, settings.SIGN_IN_LOCKOUT_SECONDS)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.SIGN_IN_LOCKOUT_SECONDS)
    return user


def token_issue(*, user: User) -> tuple[str, datetime]:
    """A new token for one device; the plain token is returned once and stored hashed."""
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry
