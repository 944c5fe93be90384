"""The signed link a reminder carries to the questionnaires due that day, opened without
signing in (as the check-in link: prescriptions/reminders/links.py says why signed, not stored).

The token names the patient and the scheduled date; the questionnaires it opens are those
still due for that date. It is spent once they are answered (the database says so: a
response on or after the date), and it expires DUE_FOR after the date, as they stop being
due. One link for all of a day's instruments: a text message has room for one more link.
"""

import base64
from datetime import date

from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "kneerocks.questionnaire-link"
MAC_BYTES = 16


def _mac(value: str) -> str:
    digest = salted_hmac(SALT, value, algorithm="sha256").digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    # Base 36 keeps the token short: the link shares a text message with the check-in's.
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = DIGITS[digit] + text
        if not number:
            return text


def questionnaire_token(patient_id: int, due_date: date) -> str:
    value = f"{_base36(patient_id)}-{_base36(due_date.toordinal())}"
    return f"{value}.{_mac(value)}"


def questionnaire_patient_date(token: str) -> tuple[int, date] | None:
    value, _, mac = token.rpartition(".")
    if not value or not constant_time_compare(mac, _mac(value)):
        return None
    parts = value.split("-")
    if len(parts) != 2 or not all(parts) or not all(set(p) <= set(DIGITS) for p in parts):
        return None
    try:
        return int(parts[0], 36), date.fromordinal(int(parts[1], 36))
    except ValueError:
        return None
