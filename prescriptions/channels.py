"""The senders behind each reminder channel: email, SMS and webhook.

Every sender raises `DeliveryError` when the message did not go out and a later attempt may
succeed (the reminder is retried), or `PermanentDeliveryError` when retrying cannot help
(no phone number, the receiver rejected the request); anything else is a bug.

SMS backends
------------
`settings.SMS_BACKEND` names a class by its dotted path. It is instantiated with no
arguments for each batch of reminders and must offer one method::

    def send(self, *, to: str, body: str) -> None

`to` is the patient's phone number as stored, `body` plain text of at most a few hundred
characters. Raise `DeliveryError` (or `PermanentDeliveryError`) on failure. The default,
`FileSMSBackend`, writes each message as a JSON file into `settings.SMS_FILE_PATH`, like
Django's file email backend, so development and tests can read what would have been sent.

Webhooks
--------
A POST of a JSON body with `X-KneeRocks-Timestamp: <unix seconds>` and
`X-KneeRocks-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` under the
patient's webhook secret. Receivers recompute it and reject old timestamps.
"""

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

WEBHOOK_TIMEOUT_SECONDS = 5
# Statuses that tell us the receiver may accept the same request later.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class DeliveryError(Exception):
    """The message did not go out; another attempt may succeed."""


class PermanentDeliveryError(DeliveryError):
    """The message cannot go out as things stand; retrying would not help."""


def send_email(*, to: str, subject: str, body: str, connection=None) -> None:
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to], connection=connection).send()
    except OSError as error:  # SMTP and socket errors are both OSError
        raise DeliveryError(f"email: {error}") from error


class FileSMSBackend:
    """Development SMS: one JSON file per message in settings.SMS_FILE_PATH."""

    def send(self, *, to: str, body: str) -> None:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        sent_at = datetime.now(UTC)
        name = f"{sent_at:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.json"
        record = {"to": to, "body": body, "sent_at": sent_at.isoformat()}
        (folder / name).write_text(json.dumps(record))


def sms_backend():
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, to: str, body: str, backend=None) -> None:
    if not to:
        raise PermanentDeliveryError("sms: the patient has no phone number")
    (backend or sms_backend()).send(to=to, body=body)


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def send_webhook(*, url: str, secret: str, payload: dict) -> None:
    if not url:
        raise PermanentDeliveryError("webhook: no webhook_url is set")
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-KneeRocks-Timestamp": timestamp,
        "X-KneeRocks-Signature": webhook_signature(secret=secret, timestamp=timestamp, body=body),
    }
    try:
        # A redirect is not followed: it could point the worker at an internal service.
        response = requests.post(
            url,
            data=body,
            headers=headers,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise DeliveryError(f"webhook: {error.__class__.__name__}") from error
    if 200 <= response.status_code < 300:
        return
    message = f"webhook: the receiver answered {response.status_code}"
    if 300 <= response.status_code < 400:
        raise PermanentDeliveryError(f"{message}; redirects are not followed")
    if 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_STATUSES:
        raise PermanentDeliveryError(message)
    raise DeliveryError(message)
