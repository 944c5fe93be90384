"""The wire beneath the reminder channels: email, SMS and webhook.

What differs per channel (what a reminder needs to be sendable, its words, its limits, what
happens to a send in doubt) is its transport, in prescriptions/reminders/transports/; these
are the senders the transports call, and the address-checked POST the clinics' webhooks use
too. Every sender raises `DeliveryError` when the message did not go out and a later
attempt may succeed (the reminder is retried), or `PermanentDeliveryError` when retrying
cannot help (the receiver rejected the request); anything else is a bug.

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
`Idempotency-Key: reminder-<id>` is the same on every attempt at one reminder: a receiver that
has handled it drops the repeat (a worker stopped mid-send makes the reminder go again).

The host is resolved just before each post and every address it resolves to must be on the
public internet (unless `settings.WEBHOOKS_ALLOW_LOCAL`), so a patient's host name cannot
point the worker at the database, the broker or a cloud metadata service. `webhook_post`
does that check and the pinned post for the clinics' webhooks too (webhooks/sending.py).
"""

import hashlib
import hmac
import json
import smtplib
import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string
from requests.adapters import HTTPAdapter

from clinic.addresses import is_public_address

WEBHOOK_TIMEOUT_SECONDS = 5
# Statuses that tell us the receiver may accept the same request later.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class DeliveryError(Exception):
    """The message did not go out; another attempt may succeed."""


class PermanentDeliveryError(DeliveryError):
    """The message cannot go out as things stand; retrying would not help."""


class PreparedEmail(EmailMultiAlternatives):
    """An email whose MIME text can be generated before it is sent (`generate`): the mail
    backend then sends those bytes instead of generating them again, the dearest part of
    sending an email. What the backends read of `message()` is its bytes (`as_bytes`)."""

    mime: bytes = b""

    def generate(self) -> bytes:
        return self.message().as_bytes()

    def message(self):
        return _GeneratedMIME(self.mime) if self.mime else super().message()


class _GeneratedMIME:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        # Generated with "\n" line ends; header values hold no line end of their own (Django
        # refuses them) and the bodies none but "\n".
        return self.data if linesep == "\n" else self.data.replace(b"\n", linesep.encode())

    def get_charset(self) -> None:
        return None


def email_message(
    *, to: str, subject: str, body: str, html: str | None = None, headers: dict | None = None
) -> PreparedEmail:
    message = PreparedEmail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], headers=headers)
    if html:
        message.attach_alternative(html, "text/html")
    return message


def send_email(message: EmailMultiAlternatives, *, connection=None) -> None:
    message.connection = connection
    try:
        message.send()
    except OSError as error:  # SMTP and socket errors are both OSError
        raise DeliveryError(f"email: {smtp_reason(error)}") from error


def smtp_reason(error: OSError) -> str:
    """What went wrong, without the server's own words: they often repeat the address."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"the mail server refused the recipient ({', '.join(map(str, codes))})"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the mail server answered {error.smtp_code}"
    return error.__class__.__name__


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
    (backend or sms_backend()).send(to=to, body=body)


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def webhook_address(host: str, port: int) -> str:
    """The address to post to, once every address `host` resolves to has passed the check."""
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except OSError as error:
        raise DeliveryError(f"webhook: could not resolve the host ({error})") from error
    if not settings.WEBHOOKS_ALLOW_LOCAL and not all(map(is_public_address, addresses)):
        # The reason is shown to the patient, so it does not say which address was found.
        raise PermanentDeliveryError(
            "webhook: the host resolves to an address that is not on the public internet"
        )
    return addresses[0]


class _TLSHostnameAdapter(HTTPAdapter):
    """Sends SNI for, and checks the certificate against, the host name in the patient's
    URL while the request itself goes to the address that was checked."""

    def __init__(self, hostname: str):
        self.hostname = hostname
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, server_hostname=self.hostname, **kwargs)


def webhook_post(*, url: str, body: bytes, headers: dict) -> requests.Response:
    """POSTs `body` to `url` once its host has passed the address check, pinned to the
    address that was checked; raises DeliveryError when no answer came."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = webhook_address(parts.hostname or "", port)
    userinfo, at, host_header = parts.netloc.rpartition("@")
    literal = f"[{address}]" if ":" in address else address
    # Pinned to the checked address (Host and TLS name kept): DNS rebinding cannot switch it.
    pinned_url = parts._replace(netloc=f"{userinfo}{at}{literal}:{port}").geturl()
    try:
        with requests.Session() as session:
            # A proxy from the environment would connect to the host by name, unchecked.
            session.trust_env = False
            session.mount("https://", _TLSHostnameAdapter(parts.hostname))
            # A redirect is not followed: it could point the worker at an internal service.
            return session.post(
                pinned_url,
                data=body,
                headers={**headers, "Host": host_header},
                timeout=WEBHOOK_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
    except requests.RequestException as error:
        raise DeliveryError(f"webhook: {error.__class__.__name__}") from error


def send_webhook(*, url: str, secret: str, payload: dict, idempotency_key: str = "") -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-KneeRocks-Timestamp": timestamp,
        "X-KneeRocks-Signature": webhook_signature(secret=secret, timestamp=timestamp, body=body),
    }
    if idempotency_key:
        # The same on every attempt: a receiver drops a repeat it has already handled.
        headers["Idempotency-Key"] = idempotency_key
    response = webhook_post(url=url, body=body, headers=headers)
    if 200 <= response.status_code < 300:
        return
    message = f"webhook: the receiver answered {response.status_code}"
    if 300 <= response.status_code < 400:
        raise PermanentDeliveryError(f"{message}; redirects are not followed")
    if 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_STATUSES:
        raise PermanentDeliveryError(message)
    raise DeliveryError(message)
