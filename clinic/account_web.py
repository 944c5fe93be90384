"""The account page, for every role: the password, the second factor and where the user is
signed in. Each section is its own include (clinic/templates/account/), and its forms post
to the views of its own module; this page only gathers them."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from clinic import sign_ins
from clinic.services import client_address


def account_context(request, **extra) -> dict:
    user = request.user
    return {
        "base_template": "patient/base.html" if user.is_patient else "staff/team_base.html",
        "clinic": user.clinic,
        "nav": "account",
        "sign_ins": list(sign_ins.open_sign_ins(user)),
        "current_sign_in": sign_ins.current_sign_in_id(request),
        # Times in the patient's own zone, or the clinic's for its team.
        "zone": user.patient.timezone
        if user.is_patient
        else getattr(user.clinic, "timezone", settings.TIME_ZONE),
        "idle_minutes": settings.SESSION_IDLE_MINUTES,
        "max_hours": settings.SESSION_MAX_HOURS,
        **extra,
    }


def render_account(request, *, status: int = 200, **extra):
    """The page, with a section's form (and its errors) given by that section's view."""
    return render(request, "account/page.html", account_context(request, **extra), status=status)


def signed_in_required(view):
    """Signed in by session, whatever the role: else to the sign-in page of the area the
    path lies in (a patient's under /my/, the clinic team's under /staff/)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            login = "patient-login" if request.path.startswith("/my/") else "staff-login"
            return redirect(f"{reverse(login)}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@require_GET
@signed_in_required
def account(request):
    # Each role's page sits in its own area, with that area's header and navigation.
    own = reverse("patient-account" if request.user.is_patient else "staff-account")
    if request.path != own:
        return redirect(own)
    return render_account(request)


def _sign_in_page(user) -> str:
    return reverse("patient-login" if user.is_patient else "staff-login")


@require_POST
@signed_in_required
def end_sign_in(request, pk: int):
    """Signs out one device from the list; this browser itself when it is the one named."""
    sign_in = get_object_or_404(sign_ins.open_sign_ins(request.user), pk=pk)
    if sign_in.id == sign_ins.current_sign_in_id(request):
        user = request.user
        sign_ins.session_end(request)
        return redirect(_sign_in_page(user))
    sign_ins.sign_in_end(sign_in)
    messages.success(request, "That device is signed out.")
    return redirect(f"{request.path.split('sign-ins/')[0]}#sign-ins")


@require_POST
@signed_in_required
def sign_out_everywhere(request):
    user = request.user
    sign_ins.sign_out_everywhere(user=user, address=client_address(request))
    # This browser's session is gone with the others: a fresh one carries the message.
    sign_ins.session_end(request)
    messages.success(request, "You are signed out on every device, this one included.")
    return redirect(_sign_in_page(user))
