"""Signed links a patient opens without signing in: a session's check-in, stopping
reminders, the calendar feed.

They are signed (an HMAC-SHA256 under SECRET_KEY, Django's `salted_hmac`) rather than
stored as random tokens: nothing to store, index or clean up, and nothing in the database
that would open a link if it leaked. The MAC is cut to 128 bits (RFC 2104 allows it; far
beyond guessing) so a check-in link fits in a text message beside its words.

What a link may do is decided by the database when it is opened: a check-in link is
spent once its session has a check-in, and it expires with that session's local day; a
calendar link names a version of the patient's feed that a reset moves past. Changing
SECRET_KEY voids every link (reminder links live a day; calendars must be subscribed again).
"""

import base64

from django.utils.crypto import constant_time_compare, salted_hmac

CHECKIN_SALT = "kneerocks.checkin-link"
STOP_SALT = "kneerocks.stop-reminders"
CALENDAR_SALT = "kneerocks.calendar-feed"


MAC_BYTES = 16


def _mac(value: str, salt: str) -> str:
    digest = salted_hmac(salt, value, algorithm="sha256").digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _sign(value: str, salt: str) -> str:
    return f"{value}.{_mac(value, salt)}"


def _unsign(token: str, salt: str) -> str | None:
    value, _, mac = token.rpartition(".")
    if not value or not constant_time_compare(mac, _mac(value, salt)):
        return None
    return value


def _ints(token: str, salt: str, count: int) -> tuple[int, ...] | None:
    value = _unsign(token, salt)
    parts = value.split("-") if value else []
    if len(parts) != count or not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def checkin_token(reminder_id: int) -> str:
    """Opens the check-in of the reminder's session (its patient, prescription, slot and
    local date are the reminder's)."""
    return _sign(str(reminder_id), CHECKIN_SALT)


def checkin_reminder_id(token: str) -> int | None:
    found = _ints(token, CHECKIN_SALT, 1)
    return found[0] if found else None


def stop_token(reminder_id: int) -> str:
    return _sign(str(reminder_id), STOP_SALT)


def stop_reminder_id(token: str) -> int | None:
    found = _ints(token, STOP_SALT, 1)
    return found[0] if found else None


def calendar_token(patient_id: int, version: int) -> str:
    return _sign(f"{patient_id}-{version}", CALENDAR_SALT)


def calendar_patient_version(token: str) -> tuple[int, int] | None:
    return _ints(token, CALENDAR_SALT, 2)
