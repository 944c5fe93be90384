"""The audit trail of patients' data, and the request id that ties it to the logs.

Every view that returns or changes a patient's data says so with one call:

    audit_record(request, patients=[patient.id], action=AuditEntry.Action.READ)

(or, on a DRF generic view, inherits `AuditedMixin`, which records the objects it looks up
and the page it lists). The entries are written by `RequestAuditMiddleware` once the
response is known to succeed: a refused or failed request read and changed nothing, so it
leaves no entry. A write may instead commit its entry with itself (`audit_write`). The same
middleware gives each request an id (`X-Request-ID`), which every log line carries
(`clinic.request_id`) and every entry stores.
"""

import json
import uuid
from collections.abc import Iterable
from operator import attrgetter

from django.db import DatabaseError, connections, router
from django.utils import timezone
from rest_framework import exceptions, status

from clinic import request_id
from clinic.errors import error_response
from clinic.models import AuditEntry

Action = AuditEntry.Action

ACTION_BY_METHOD = {
    "GET": Action.READ,
    "HEAD": Action.READ,
    "POST": Action.CREATE,
    "PUT": Action.UPDATE,
    "PATCH": Action.UPDATE,
}


def _django_request(request):
    # A DRF Request wraps Django's; entries are kept on the one the middleware holds.
    return getattr(request, "_request", request)


def audit_record(request, *, patients: Iterable[int], action: str | None = None) -> None:
    """Notes that this request reads (or creates, changes, exports…) these patients' data.

    `action` defaults to what the HTTP method implies. Written when the response succeeds.
    """
    http_request = _django_request(request)
    action = action or ACTION_BY_METHOD.get(http_request.method, Action.READ)
    pending = http_request.__dict__.setdefault("_audit_pending", {})
    for patient_id in patients:
        # A later, more precise call (an export, a create) names what the request did.
        pending[patient_id] = action


def _role(user) -> str:
    if user is None or not user.is_authenticated:
        return "anonymous"
    return user.role or ("admin" if user.is_staff else "")


# One INSERT per request however many patients a page or an export shows: the ids travel
# as one array parameter (bulk_create would split them into batches on SQLite).
PATIENT_IDS = {
    "postgresql": ("unnest(%s::bigint[]) AS ids(value)", list),
    "sqlite": ("json_each(%s) AS ids", json.dumps),
}


def _insert(patient_ids: list[int], **columns) -> None:
    connection = connections[router.db_for_write(AuditEntry)]
    if connection.vendor not in PATIENT_IDS:
        AuditEntry.objects.bulk_create(
            AuditEntry(patient_id=patient_id, **columns) for patient_id in patient_ids
        )
        return
    source, as_parameter = PATIENT_IDS[connection.vendor]
    fields = [AuditEntry._meta.get_field(name) for name in columns]
    values = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, columns.values(), strict=True)
    ]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(AuditEntry._meta.db_table)} "
            f"({names}, patient_id) SELECT {placeholders}, ids.value FROM {source}",
            [*values, as_parameter(patient_ids)],
        )


def audit_flush(request) -> None:
    pending = request.__dict__.pop("_audit_pending", None)
    if not pending:
        return
    user = getattr(request, "user", None)
    by_action: dict[str, list[int]] = {}
    for patient_id, action in pending.items():
        by_action.setdefault(action, []).append(patient_id)
    for action, patient_ids in by_action.items():
        _insert(
            patient_ids,
            at=timezone.now(),
            actor_id=user.id if user is not None and user.is_authenticated else None,
            role=_role(user),
            action=action,
            method=request.method[:8],
            path=request.path[:300],
            request_id=request.request_id,
        )


UNAVAILABLE = "The service is briefly unavailable; please try again."


class AuditUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = UNAVAILABLE
    default_code = "audit_unavailable"
    wait = 1  # DRF answers it as Retry-After


def audit_write(request, *, patients: Iterable[int], action: str | None = None) -> None:
    """Writes these entries now, in the caller's transaction, with what it writes: one
    commit (one WAL flush) instead of two, and neither is kept without the other. Raised
    out of that transaction, AuditUnavailable (a 503) rolls the write back."""
    audit_record(request, patients=patients, action=action)
    try:
        audit_flush(_django_request(request))
    except DatabaseError:
        raise AuditUnavailable from None


class RequestAuditMiddleware:
    """First in the chain: the request id covers every log line of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(request_id.HEADER, "")
        request.request_id = incoming if request_id.SAFE.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id.current.set(request.request_id)
        try:
            response = self.get_response(request)
            if response.status_code < 400:
                try:
                    audit_flush(request)
                except DatabaseError:
                    # No read goes unrecorded: without its entries the answer is withheld
                    # (a write already made is replayed to a retry with its Idempotency-Key).
                    response = error_response(request, 503, UNAVAILABLE)
                    response["Retry-After"] = "1"
            response[request_id.HEADER] = request.request_id
            return response
        finally:
            request_id.current.reset(token)


class AuditedMixin:
    """For DRF generic views: the object looked up and every row of a listed page count as
    read (or changed, for a write) for their patients.

    `audit_patient` is the attribute path from a row to its patient's id.
    """

    audit_patient = "patient_id"

    def get_object(self):
        obj = super().get_object()
        audit_record(self.request, patients=[attrgetter(self.audit_patient)(obj)])
        return obj

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            patient_of = attrgetter(self.audit_patient)
            audit_record(self.request, patients=[patient_of(row) for row in page])
        return page


class AuditedAdmin:
    """For ModelAdmins of patients' data: opening a record counts as a read (saving it, an
    update) and a change list as a read of each patient on its page. Never a delete: a
    clinical record is kept for good (a patient leaving the clinic is archived)."""

    audit_patient = "patient_id"

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            audit_record(request, patients=[attrgetter(self.audit_patient)(obj)])
        return obj

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            patient_of = attrgetter(self.audit_patient)
            audit_record(
                request,
                patients=[patient_of(row) for row in changelist.result_list],
                action=Action.READ,
            )
        return response

    def has_delete_permission(self, request, obj=None):
        return False
