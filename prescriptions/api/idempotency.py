"""Retry-safe POSTs: the `Idempotency-Key` header, scoped to the signed-in user.

A phone that loses its connection after sending a check-in cannot know whether it was
stored; it sends the same request again with the same key. The first response is kept
with the key and answered again, so nothing is stored twice. The same key with another
body is a client bug and answers 409.
"""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.audit import Action, audit_record
from prescriptions.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_MAX = IdempotencyRecord._meta.get_field("key").max_length


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_conflict"


def _fingerprint(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(user, key: str, fingerprint: str) -> Response | None:
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is None:
        return None
    if record.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    return Response(
        record.response_body,
        status=record.response_status,
        headers={REPLAYED: "true"},
    )


def respond_once(request: Request, create: Callable[[], tuple[int, dict]]) -> Response:
    """Answers `create()` (status, body), or the stored answer when the key came before
    (with the REPLAYED header).

    `create` runs in one transaction, with the stored answer when there is a key: all it
    writes is saved (in one commit) or none of it, so a failed request (a 400) keeps
    nothing and may be retried with its key.
    """
    key = request.headers.get(HEADER, "").strip() or None
    if key and len(key) > KEY_MAX:
        raise exceptions.ValidationError({HEADER: [f"Use at most {KEY_MAX} characters."]})
    if not key:
        with transaction.atomic():
            status_code, body = create()
        return Response(body, status=status_code)
    fingerprint = _fingerprint(request.data)
    if replay := _replay(request.user, key, fingerprint):
        return replay
    try:
        with transaction.atomic():
            status_code, body = create()
            IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                request_fingerprint=fingerprint,
                response_status=status_code,
                response_body=body,
            )
    except IntegrityError:
        # A concurrent request with the same key committed first; ours rolled back whole,
        # so answer as a retry of that one.
        if replay := _replay(request.user, key, fingerprint):
            return replay
        raise
    return Response(body, status=status_code)


def respond_once_audited(request: Request, create: Callable[[], tuple[int, dict]]) -> Response:
    """`respond_once` for a create that writes its own audit entry: a replay hands the same
    record of the patient back, so it is recorded again, as the first answer was."""
    response = respond_once(request, create)
    if response.has_header(REPLAYED):
        audit_record(request, patients=[response.data["patient"]], action=Action.CREATE)
    return response
