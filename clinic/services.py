import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from clinic import security_log
from clinic.models import User

Event = security_log.Event


class SignInLocked(Exception):
    """Too many failed sign-ins at this username from this address, or this address is
    being slowed down; retry after `wait` seconds."""

    def __init__(self, wait: int):
        self.wait = wait


def client_address(request) -> str:
    """The address a request comes from: REMOTE_ADDR, or with `TRUSTED_PROXIES` set, the
    entry of X-Forwarded-For that the nearest trusted proxy wrote. Anything further left
    in that header is the client's own say-so. The same rule as the API's throttles."""
    return BaseThrottle().get_ident(request)


def _pair_key(username: str, address: str) -> str:
    # Hashed: a username may hold anything, and a cache key must not.
    typed = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"sign-in-failures:{address}:{typed}"


def _address_key(address: str) -> str:
    return f"sign-in-address-failures:{address}"


def count_in_window(key: str, window: int) -> int:
    """Adds one to a count in the cache that lapses `window` seconds after its last rise,
    and answers the count, this one included (shared by every process through the cache)."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
        # Some caches' incr forgets the timeout (the file cache's sets it to the default).
        cache.touch(key, window)
    except ValueError:  # expired between add and incr
        count = 1
        cache.set(key, count, timeout=window)
    return count


def _stored_username(username: str) -> str:
    """The username as stored, when only its case differs from what was typed.

    A patient's username is their email, which people type in any case. When two usernames
    differ only by case, the typed one is kept as is.
    """
    stored = User.objects.filter(username__iexact=username.strip())
    matches = list(stored.values_list("username", flat=True)[:2])
    return matches[0] if len(matches) == 1 else username


def sign_in_allowed(*, username: str, address: str) -> None:
    """Raises SignInLocked when this username is locked from this address, or when the
    address has failed across many usernames and must wait before its next try.

    The lock falls on the pair (username, address): the rightful user signing in from
    elsewhere is never locked out, nor are the other people behind a shared address (a
    clinic's network) because one of them mistyped. An address guessing across usernames is
    slowed, each failure doubling its wait up to a cap: slow enough to make guessing
    hopeless, short enough that a colleague behind it waits seconds, not a quarter hour.
    """
    if cache.get(_pair_key(username, address), 0) >= settings.SIGN_IN_MAX_FAILURES:
        raise SignInLocked(settings.SIGN_IN_LOCKOUT_SECONDS)
    failures, last_at = cache.get(_address_key(address), (0, 0.0))
    excess = failures - settings.SIGN_IN_SLOWDOWN_AFTER
    if excess >= 0:
        wait = min(2**excess, settings.SIGN_IN_SLOWDOWN_MAX_SECONDS)
        remaining = last_at + wait - time.time()
        if remaining > 0:
            raise SignInLocked(math.ceil(remaining))


def sign_in_failed(*, username: str, address: str, user: User | None, reason: str) -> None:
    """Counts a failed try (a wrong password or second-factor code) and logs it; the try
    that reaches the limit logs the lockout too."""
    count = count_in_window(_pair_key(username, address), settings.SIGN_IN_LOCKOUT_SECONDS)
    failures, _ = cache.get(_address_key(address), (0, 0.0))
    cache.set(_address_key(address), (failures + 1, time.time()), settings.SIGN_IN_LOCKOUT_SECONDS)
    security_log.record(
        Event.SIGN_IN_FAILED, user=user, address=address, username_tried=username, reason=reason
    )
    if count == settings.SIGN_IN_MAX_FAILURES:
        security_log.record(Event.LOCKED_OUT, user=user, address=address, username_tried=username)


def sign_in_succeeded(*, username: str, address: str) -> None:
    """The pair's count starts again: whoever knew the password is its owner. The
    address's count stands, or an attacker with an account of their own could clear it
    between guesses at others'."""
    cache.delete(_pair_key(username, address))


def user_sign_in(*, username: str, password: str, address: str) -> User | None:
    """Checks the credentials (after `sign_in_allowed`), counting failures; None when they
    are wrong. A user with a second factor is not signed in yet: the caller asks for it."""
    sign_in_allowed(username=username, address=address)
    stored = _stored_username(username)
    user = authenticate(username=stored, password=password)
    if user is None:
        known = User.objects.filter(username=stored).first()
        sign_in_failed(username=username, address=address, user=known, reason="password")
    return user
