"""Posting deliveries: claim → sign → post → record.

A batch of deliveries is claimed with a lease in one conditional UPDATE (pending, due, not
held by another worker, endpoint switched on), so a task delivered twice, or a task and
the sweep, post once. Each try is signed the Standard Webhooks way: `webhook-id` is the
event's id, the same on every try and every replay, so a receiver drops a repeat;
`webhook-timestamp` is the moment of this try. The host is checked and the post pinned to
the checked address by prescriptions.reminders.webhook_post, as for patients' webhooks.

A 2xx answer delivers; anything else (another status, a timeout, an address refused) is
retried on the schedule of webhooks.retries. Every try leaves an Attempt row. An endpoint
failing without a single success for DISABLE_AFTER is switched off, its pending
deliveries failed, and the clinic told (a notice on /staff/, the security log).
"""

import json
import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks import Webhook

from clinic import security_log
from prescriptions import reminders
from webhooks import retries
from webhooks.models import Attempt, Delivery, Endpoint

logger = logging.getLogger(__name__)

Status = Delivery.Status
DISABLED_REASON = (
    "Switched off after 24 hours in which every delivery failed. Check the receiver, then "
    "switch the endpoint on again; deliveries that failed can be replayed."
)


def body_of(event) -> bytes:
    """What a receiver gets: the type, when it happened and the ids (event.data) only."""
    payload = {"type": event.type, "timestamp": event.at.isoformat(), "data": event.data}
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_headers(*, secret: str, msg_id: str, body: bytes, now) -> dict:
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }


def claim(delivery_ids: list[int]) -> tuple[uuid.UUID, list[Delivery]]:
    """Leases the deliveries no one else holds that are due; answers them with their
    endpoint and event (two queries)."""
    now = timezone.now()
    token = uuid.uuid4()
    Delivery.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        id__in=delivery_ids,
        status=Status.PENDING,
        next_attempt_at__lte=now,
        endpoint__is_active=True,
    ).update(lease_until=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS), lease_token=token)
    claimed = Delivery.objects.filter(lease_token=token).select_related("endpoint", "event")
    return token, list(claimed.order_by("id"))


def deliver(delivery_ids: list[int]) -> list[int]:
    """Tries each due delivery once; answers the ids to try again soon (their wait)."""
    token, claimed = claim(delivery_ids)
    soon = []
    for delivery in claimed:
        if timezone.now() >= delivery.lease_until:
            # Slow answers used the lease up: the rest may be the sweep's now, and posting
            # them here too would send them twice. They wait for the sweep.
            break
        wait = attempt(delivery, token)
        if wait is not None and wait <= timedelta(minutes=1):
            soon.append((delivery.id, wait))
    return soon


def _post(delivery: Delivery) -> tuple[int | None, str, int]:
    endpoint, event = delivery.endpoint, delivery.event
    body = body_of(event)
    headers = signed_headers(
        secret=endpoint.secret, msg_id=str(event.id), body=body, now=timezone.now()
    )
    started = time.monotonic()
    status_code, error = None, ""
    try:
        response = reminders.webhook_post(url=endpoint.url, body=body, headers=headers)
    except reminders.DeliveryError as failure:
        error = str(failure).removeprefix("webhook: ")
    else:
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"the receiver answered {status_code}"
    return status_code, error[:300], round((time.monotonic() - started) * 1000)


def attempt(delivery: Delivery, token: uuid.UUID) -> timedelta | None:
    """Posts one claimed delivery and records the try; answers the wait before the next
    try (None: none is due, it was delivered or given up)."""
    status_code, error, duration_ms = _post(delivery)
    now = timezone.now()
    tries = delivery.attempts + 1
    if not error:
        status, next_at = Status.DELIVERED, now
    else:
        next_at = retries.next_try(tries, now)
        status = Status.PENDING if next_at else Status.FAILED
    with transaction.atomic():
        Attempt.objects.create(
            delivery_id=delivery.id,
            at=now,
            status_code=status_code,
            duration_ms=duration_ms,
            error=error,
        )
        # Fenced by the lease: a worker whose lease ran out and was taken over writes nothing.
        Delivery.objects.filter(id=delivery.id, lease_token=token).update(
            status=status,
            attempts=tries,
            next_attempt_at=next_at or now,
            last_status_code=status_code,
            last_error=error,
            lease_until=None,
            lease_token=None,
        )
        _endpoint_answered(delivery.endpoint, ok=not error, now=now)
    if error:
        logger.info("webhook delivery %s failed (try %s): %s", delivery.id, tries, error)
    return next_at - now if error and next_at else None


def _endpoint_answered(endpoint: Endpoint, *, ok: bool, now) -> None:
    endpoints = Endpoint.objects.filter(id=endpoint.id)
    if ok:
        # As read with the claim: an endpoint that was not failing has nothing to clear, and
        # most answers are successes of such an endpoint (no statement on the hot path).
        if endpoint.failing_since is not None:
            endpoints.update(failing_since=None)
        return
    endpoints.filter(failing_since=None).update(failing_since=now)
    failing = endpoints.filter(is_active=True).values_list("failing_since", flat=True).first()
    if retries.failing_too_long(failing, now):
        endpoint_disable(endpoint, now=now)


def endpoint_disable(endpoint: Endpoint, *, now) -> None:
    """Switches the endpoint off, fails what it still had pending, and logs it for the
    clinic (in the caller's transaction)."""
    switched = Endpoint.objects.filter(id=endpoint.id, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=DISABLED_REASON
    )
    if not switched:
        return
    Delivery.objects.filter(endpoint_id=endpoint.id, status=Status.PENDING).update(
        status=Status.FAILED, lease_until=None, lease_token=None
    )
    security_log.record(
        security_log.Event.CLINIC_CHANGED,
        clinic_id=endpoint.clinic_id,
        webhook={"id": endpoint.id, "change": "disabled", "url": endpoint.url},
    )
    logger.warning("webhook endpoint %s disabled after 24 hours of failures", endpoint.id)


def due(now, limit: int = 500) -> list[int]:
    """Pending deliveries whose next try has come and that no worker holds."""
    return list(
        Delivery.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now),
            status=Status.PENDING,
            next_attempt_at__lte=now,
            endpoint__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
