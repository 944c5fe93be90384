"""Typed readers of environment variables for the settings.

Each one answers the default when the variable is unset or blank, and raises
ImproperlyConfigured, naming the variable, when a value is set but cannot be read: a typo
in production stops the start-up instead of falling back to a default no one chose.
"""

import os
import re
from urllib.parse import unquote, urlparse, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def env_required_in_production(*, debug: bool, names: dict[str, str]) -> None:
    """Production (DEBUG off) must set each of `names` itself (name: what it is for);
    development runs on the defaults the settings give them."""
    missing = [
        f"{name} must be set when DEBUG is off{why}"
        for name, why in names.items()
        if env_str(name) is None
    ]
    if missing and not debug:
        raise ImproperlyConfigured("; ".join(missing))


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be {minimum} or more, not {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_rate(name: str, default: str) -> str:
    """A throttle rate such as 600/min (per s, min, hour or day)."""
    value = env_str(name, default)
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must look like 600/min, not {value!r}")
    return value


def env_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name} {value!r} is not an IANA time zone") from None
    return value


def site_url(name: str, value: str) -> str:
    """An address patients open: scheme and host, no trailing slash."""
    value = value.rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(f"{name} must look like https://clinic.example.com: {value!r}")
    return value


def email_settings_from_url(url: str) -> dict:
    """smtp://user:password@host:port, smtp+tls://… or smtp+ssl://…"""
    parsed = urlparse(url)
    if parsed.scheme not in {"smtp", "smtp+tls", "smtp+ssl"} or not parsed.hostname:
        raise ImproperlyConfigured("EMAIL_URL must look like smtp+tls://user:pass@host:587")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname,
        "EMAIL_PORT": parsed.port or 25,
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_TLS": parsed.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parsed.scheme == "smtp+ssl",
    }
