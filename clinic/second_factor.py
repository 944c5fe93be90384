"""A second factor for signing in: a code from an authenticator app (TOTP, RFC 6238: SHA-1,
6 digits, 30-second steps) through django-otp, with 10 single-use recovery codes for the
day the phone is lost.

    url = second_factor_setup(user=user)                      # scanned into the app
    codes = second_factor_confirm(user=user, code="123456", address=address)
    second_factor_verify(user=user, code="123456")            # True once per time step

A device is in force only once confirmed with a code from the app: a secret that was shown
but never typed back might not be in anyone's app. A clinic that requires a second factor
requires it of its clinicians and staff, never of its patients.
"""

import re
from base64 import b32encode

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import security_log, services
from clinic.models import Clinic, User

Event = security_log.Event
RECOVERY_CODES = 10
TOTP_CODE = re.compile(r"^[0-9]{6}$")


class SecondFactorRefused(Exception):
    """The change cannot be made in this state (not set up, already on, the clinic requires
    it); the message says so in words for the user."""


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_required(user: User) -> bool:
    """Whether the user's clinic requires them to have a second factor (whether or not they
    have one yet): clinicians and staff of a clinic that says so."""
    if not user.is_clinic_team:
        return False
    return Clinic.objects.filter(id=user.clinic_id, require_second_factor=True).exists()


def pending_device(user: User) -> TOTPDevice | None:
    """The device set up and not confirmed yet, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def otpauth_url(device: TOTPDevice) -> str:
    """What an authenticator app scans: issuer (OTP_TOTP_ISSUER), username and the secret."""
    return device.config_url


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32 as an app asks it to be typed, in groups of four characters."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def second_factor_setup(*, user: User) -> TOTPDevice:
    """A new secret, not in force until confirmed; an earlier unconfirmed one is dropped
    (its QR code may have been seen by someone else, or scanned into a lost phone).

    With a second factor already on, this is a move to a new phone: the one in force keeps
    working until the new one is confirmed. The caller is signed in, so they passed the
    second factor already (or a recovery code, the day the old phone was lost)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def second_factor_confirm(*, user: User, code: str, address: str) -> list[str] | None:
    """Puts the set-up device in force when `code` is the app's current code, with 10 new
    recovery codes (returned this once, shown to the user and never again); None when the
    code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).last()
    if device is None:
        raise SecondFactorRefused("Set up a second factor first, then type its code.")
    # A wrong code returns (and commits the device's throttle) rather than raising.
    if not TOTP_CODE.match(_plain(code)) or not device.verify_token(_plain(code)):
        return None
    # A move to a new phone: the old phone's codes stop working now, and so do the old
    # recovery codes (below).
    replaced = TOTPDevice.objects.filter(user=user, confirmed=True).delete()[0] > 0
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    security_log.record(
        Event.SECOND_FACTOR_ADDED, user=user, actor=user, address=address, replaced=replaced
    )
    return [_readable(c) for c in codes]


@transaction.atomic
def second_factor_disable(*, user: User, code: str, address: str) -> bool:
    """Turns the second factor off (the app's device and every recovery code) when `code`
    is a current code or an unused recovery code; False when it is not.

    A clinician or staff member of a clinic that requires a second factor cannot turn it
    off: it would let them in without one until their sessions end."""
    if not has_second_factor(user):
        raise SecondFactorRefused("No second factor is on.")
    if second_factor_required(user):
        raise SecondFactorRefused(
            "Your clinic requires a second factor, so it cannot be turned off. For a new "
            "phone, choose “Move to a new phone”: sign in with a recovery code if the old "
            "one is lost."
        )
    # A wrong code returns (and commits the device's throttle) rather than raising.
    if not second_factor_verify(user=user, code=code):
        return False
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    security_log.record(Event.SECOND_FACTOR_REMOVED, user=user, actor=user, address=address)
    return True


@transaction.atomic
def second_factor_verify(*, user: User, code: str) -> bool:
    """True when `code` is the app's code (within a step either side, and of a later step
    than the last one accepted: a code works once) or an unused recovery code, which is
    then used up. django-otp's throttle slows each device after a wrong code."""
    code = _plain(code)
    # The row lock makes two requests with the same code take turns: only one passes.
    if TOTP_CODE.match(code):
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    else:
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    return device is not None and bool(code) and device.verify_token(code)


def second_factor_sign_in(*, user: User, code: str, username: str, address: str) -> bool:
    """The second step of a sign-in (API or web): True when the code is right; a wrong one
    counts toward the same lockout as a wrong password."""
    if second_factor_verify(user=user, code=code):
        return True
    services.sign_in_failed(username=username, address=address, user=user, reason="second_factor")
    return False


def _plain(code: str) -> str:
    """A code as typed, with what people add to it taken away: spaces, hyphens, capitals."""
    return re.sub(r"[\s-]", "", code or "").lower()


def _readable(token: str) -> str:
    """A recovery code in two halves, easier to copy out by hand (abcd-efgh)."""
    return f"{token[:4]}-{token[4:]}"
