"""The account page, for every role: the password, the second factor and where the user is
signed in. Each section is its own include (clinic/templates/account/), and its forms post
to the views of its own module; this page only gathers them."""

from functools import wraps

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import sign_ins


def account_context(request, **extra) -> dict:
    user = request.user
    return {
        "base_template": "patient/base.html" if user.is_patient else "staff/team_base.html",
        "clinic": user.clinic,
        "nav": "account",
        "sign_ins": list(sign_ins.open_sign_ins(user)),
        "current_sign_in": sign_ins.current_sign_in_id(request),
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
