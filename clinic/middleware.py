"""Guards at the edge of the API, before any view or query sees the request."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse

NUL = "\x00"
NUL_MESSAGE = "NUL characters are not allowed."


class ApiEdgeMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 on every path, before anything
    reads it (Django's own check leaves out uploaded files, which no page takes); under
    /api/ that answer is JSON (Django's own is an HTML 400). Under /api/ too, a NUL
    character in the path, a query parameter or a header answers JSON naming it.
    PostgreSQL cannot store or compare text holding NUL and would answer a 500; refusing
    it here treats SQLite and PostgreSQL alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path_info.startswith("/api/")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return too_large() if api else too_large_page()
        if not api:
            return self.get_response(request)
        if NUL in request.path_info:
            return JsonResponse({"detail": "Not found."}, status=404)
        for name, values in request.GET.lists():
            if NUL in name:
                return JsonResponse({"detail": f"Query parameter names: {NUL_MESSAGE}"}, status=400)
            if any(NUL in value for value in values):
                return JsonResponse({name: [NUL_MESSAGE]}, status=400)
        for name, value in request.headers.items():
            if NUL in value:
                return JsonResponse({name: [NUL_MESSAGE]}, status=400)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig) and request.path_info.startswith("/api/"):
            return too_large()
        return None


def too_large() -> JsonResponse:
    limit_kb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    detail = f"The request body is too large: at most {limit_kb} KB."
    return JsonResponse({"detail": detail}, status=413)


def too_large_page() -> HttpResponse:
    limit_kb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    return HttpResponse(
        f"The form sent too much data: at most {limit_kb} KB.",
        status=413,
        content_type="text/plain; charset=utf-8",
    )
