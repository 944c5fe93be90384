"""Guards at the edge of every request, before any view, form or query sees it."""

import unicodedata

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve

from clinic.api.parsers import unstorable
from clinic.errors import error_response, is_api, not_found

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class EdgeMiddleware:
    """Answers, on every path, before anything reads the request further:

    - a control character (NUL, a newline…) in the path: 404, as for any address no page
      has (a URL converter such as `<str:token>` would otherwise pass it to a view);
    - a body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413 (Django's own answer is a 400, with its
      debug page when DEBUG is on; its own check leaves out uploaded files, which no page
      takes);
    - a NUL or an unpaired surrogate in a query parameter, a form field (outside /api/,
      whose views read JSON only) or a header: 400 naming it. PostgreSQL cannot store or
      compare text holding NUL and would answer a 500; refusing it here treats SQLite and
      PostgreSQL alike, whichever view, filter or form the value would reach.

    Under /api/ the answers are JSON, elsewhere the product's own pages (clinic.errors)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any(unicodedata.category(char) == "Cc" for char in request.path_info):
            return not_found(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return too_large(request)
        fields = [("query parameter", request.GET)]
        if not is_api(request) and request.content_type in FORM_TYPES:
            # Too many fields raise SuspiciousOperation here: the 400 page (clinic.errors).
            fields.append(("form field", request.POST))
        for kind, data in fields:
            for name, values in data.lists():
                if problem := unstorable(name):
                    return refuse(request, f"{kind.capitalize()} names", problem)
                for value in values:
                    if problem := unstorable(value):
                        return refuse(request, name, problem, kind)
        for name, value in request.headers.items():
            if problem := unstorable(value):
                return refuse(request, name, problem, "header")
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return too_large(request)
        if isinstance(exception, OperationalError):
            # The database went away mid-request (a restart, a failover, a dropped
            # connection): nothing was stored, and the client may retry, with its
            # Idempotency-Key for a check-in.
            response = error_response(
                request, 503, "The service is briefly unavailable; please try again."
            )
            response["Retry-After"] = "1"
            return response
        return None


def refuse(request, name: str, problem: str, kind: str | None = None):
    if is_api(request):
        if kind is None:
            return JsonResponse({"detail": f"{name}: {problem}"}, status=400)
        return JsonResponse({name: [problem]}, status=400)
    where = name if kind is None else f"The {kind} “{name}”"
    return error_response(request, 400, f"{where}: {problem}")


def too_large(request):
    limit_kb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    return error_response(request, 413, f"The request body is too large: at most {limit_kb} KB.")


class NotFoundPageMiddleware:
    """The product's 404 page with DEBUG on too (the demo, a developer's machine). Django
    answers a 404 under DEBUG with its technical page, which lists every URL pattern of
    the site, whatever handler404 says; handler404 only serves with DEBUG off. This answers
    first, as handler404 would: for a path no pattern matches, and for a view's Http404.
    Under /api/ the answer stays JSON (clinic.errors.not_found). After CommonMiddleware, so
    a path missing its slash is still redirected to the one with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404:
                return not_found(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return not_found(request)
        return None
