"""What a request the product cannot serve gets back: JSON `{"detail"}` under /api/ (what an
API client reads), elsewhere the product's own page saying what went wrong with a link
back, never Django's built-in or debug page.

The pages render without the request's context: they are also drawn before the session
and the signed-in user are known (by clinic.middleware.EdgeMiddleware), or when the
database is what failed."""

from django.http import HttpResponse, JsonResponse
from django.template import loader

PATIENT_PREFIXES = ("/my/", "/c/", "/stop/", "/cal/")

TITLES = {
    400: "This request could not be read",
    403: "You cannot open this page",
    404: "There is no page here",
    413: "What you sent is too large",
    500: "Something went wrong on our side",
    503: "The service is briefly unavailable",
}


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def error_response(
    request, status: int, message: str, template: str | None = None, api_detail: str | None = None
):
    if is_api(request):
        return JsonResponse({"detail": api_detail or message}, status=status)
    patient = request.path_info.startswith(PATIENT_PREFIXES)
    context = {
        "title": TITLES[status],
        "message": message,
        "home_url": "/my/" if patient else "/staff/",
        "home_label": "your page" if patient else "the clinic's patients",
    }
    body = loader.render_to_string(template or f"{status}.html", context)
    return HttpResponse(body, status=status)


def bad_request(request, exception=None):
    return error_response(request, 400, "Something in the address or the form was not valid.")


def permission_denied(request, exception=None):
    return error_response(request, 403, "Your account has no access to this page.")


def page_not_found(request, exception=None):
    return not_found(request)


def not_found(request):
    message = "Nothing is at this address."
    return error_response(request, 404, message, api_detail="Not found.")


def server_error(request):
    return error_response(request, 500, "The error has been logged; please try again shortly.")


def csrf_failure(request, reason: str = ""):
    """A form sent without the page's security token: most often a page left open across
    a sign-out or kept from an earlier visit."""
    if is_api(request):
        return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)
    message = "The form had expired. Go back, reload the page and send it again."
    return error_response(request, 403, message, template="403_csrf.html")
