"""A per-request id, in the `X-Request-ID` response header and on every log line.

Kept apart from the audit trail because logging is configured before any model loads.
"""

import contextvars
import logging
import re

HEADER = "X-Request-ID"
# An id a proxy or client sent is kept only when it cannot forge a log line or a header.
SAFE = re.compile(r"[A-Za-z0-9._:-]{8,64}")
OUTSIDE_A_REQUEST = "-"

current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default=OUTSIDE_A_REQUEST
)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a failed request's status after the middleware has returned, with
        # the request attached to the record.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or current.get()
        return True
