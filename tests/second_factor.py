"""Helpers for tests of the second factor: an authenticator app's code, worked out here as
the app would (django-otp's own TOTP, at the test's clock), and a user with one on."""

from base64 import b32decode
from urllib.parse import parse_qs, urlparse

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.second_factor import second_factor_confirm, second_factor_setup


def secret_of(otpauth_url: str) -> bytes:
    """The key in an otpauth:// URL, as an app reads it from the QR code."""
    secret = parse_qs(urlparse(otpauth_url).query)["secret"][0]
    return b32decode(secret + "=" * (-len(secret) % 8))


def secret_typed(text: str) -> bytes:
    """The key as shown on the setup page (groups of four), as a person types it."""
    return secret_of(f"otpauth://totp/x?secret={text.replace(' ', '')}")


def code(key: bytes, *, steps_ahead: int = 0) -> str:
    """The app's 6-digit code now (or that many 30-second steps later)."""
    return f"{totp(key, step=30, digits=6, drift=steps_ahead):06d}"


def key_of(user) -> bytes:
    return TOTPDevice.objects.filter(user=user).latest("id").bin_key


def second_factor_on(user) -> tuple[bytes, list[str]]:
    """Sets up and confirms a second factor through the services: its key and the
    recovery codes. The code that confirmed it is used up; the next step's is not."""
    device = second_factor_setup(user=user)
    codes = second_factor_confirm(user=user, code=code(device.bin_key), address="192.0.2.1")
    assert codes is not None
    return device.bin_key, codes
