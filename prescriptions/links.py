"""Signed links a patient opens without signing in: a session's check-in, stopping
reminders, the calendar feed.

They are signed with `django.core.signing` rather than stored as random tokens: nothing
to store, index or clean up, and nothing in the database that would open a link if it
leaked. What a link may do is decided by the database when it is opened: a check-in link
is spent once its session has a check-in, and it expires with that session's local day;
a calendar link names a version of the patient's feed that a reset moves past. Changing
SECRET_KEY voids every link (reminder links live a day; calendars must be subscribed again).
"""

from django.core import signing

CHECKIN_SALT = "kneerocks.checkin-link"
STOP_SALT = "kneerocks.stop-reminders"
CALENDAR_SALT = "kneerocks.calendar-feed"


def _sign(value: str, salt: str) -> str:
    return signing.Signer(salt=salt).sign(value)


def _unsign(token: str, salt: str) -> str | None:
    try:
        return signing.Signer(salt=salt).unsign(token)
    except signing.BadSignature:
        return None


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
