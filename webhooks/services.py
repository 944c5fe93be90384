"""Writes to a clinic's webhook endpoints, for the API and the /staff/webhooks/ page alike.

Each change of an endpoint is a change of what leaves the clinic: it goes into the
clinic's security log with who made it (an endpoint is no patient's data, so the audit
trail of patients' records has nothing to say of it).
"""

import base64
import secrets
from functools import partial

from django.db import transaction
from django.utils import timezone

from clinic import security_log
from clinic.models import User
from webhooks import tasks
from webhooks.models import Delivery, Endpoint

SECRET_BYTES = 32


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _log(endpoint: Endpoint, change: str, *, by: User, address: str) -> None:
    security_log.record(
        security_log.Event.CLINIC_CHANGED,
        actor=by,
        address=address,
        webhook={"id": endpoint.id, "change": change, "url": endpoint.url},
    )


@transaction.atomic
def endpoint_create(
    *,
    clinic_id: int,
    url: str,
    events: list[str],
    by: User,
    is_active: bool = True,
    address: str = "",
) -> Endpoint:
    endpoint = Endpoint.objects.create(
        clinic_id=clinic_id,
        url=url,
        events=events,
        is_active=is_active,
        secret=new_secret(),
        created_by=by,
    )
    _log(endpoint, "added", by=by, address=address)
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, by: User, address: str = "", **changes) -> Endpoint:
    """Changes `url`, `events` or `is_active`; switching an endpoint on starts it afresh
    (no failing streak, no reason to be off)."""
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if changes.get("is_active"):
        endpoint.failing_since = None
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
    endpoint.save()
    if "is_active" in changes and len(changes) == 1:
        change = "switched on" if endpoint.is_active else "switched off"
    else:
        change = "changed"
    _log(endpoint, change, by=by, address=address)
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, by: User, address: str = "") -> None:
    _log(endpoint, "deleted", by=by, address=address)
    endpoint.delete()


@transaction.atomic
def delivery_replay(*, delivery: Delivery) -> Delivery:
    """Queues one more try of the delivery now, whatever its status (same webhook-id)."""
    now = timezone.now()
    Delivery.objects.filter(id=delivery.id).update(
        status=Delivery.Status.PENDING, next_attempt_at=now, lease_until=None, lease_token=None
    )
    transaction.on_commit(partial(tasks.deliver.delay, [delivery.id]))
    delivery.refresh_from_db()
    return delivery
