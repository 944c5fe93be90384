"""Session sign-in for the clinic team's web pages (the API itself uses Bearer tokens)."""

from functools import wraps

from django import forms
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clinic import second_factor_web
from clinic.forms import SignInForm
from clinic.permissions import CLINIC_TEAM
from clinic.second_factor import has_second_factor
from clinic.services import client_address
from clinic.sign_ins import session_end, session_start


class StaffSignInForm(SignInForm):
    username = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput)

    def refusal(self, user) -> str | None:
        if user is None:
            return "The username or password is not correct."
        if user.role not in CLINIC_TEAM:
            return (
                "These pages are for clinicians and clinic staff; patients sign in at "
                f"{reverse('patient-login')}."
            )
        return None


def team_member_required(view):
    """Signed in by session as a clinician or staff member, else off to the sign-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated or user.role not in CLINIC_TEAM:
            return redirect(f"{reverse('staff-login')}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


def sign_in_page(request, form_class, *, template: str, area: str, home: str):
    """A session sign-in page: on success back to `next` when it lies under `area` (only
    paths on this site: never an open redirect), else to the page named `home`."""
    form = form_class(request.POST or None, address=client_address(request))
    if request.method == "POST" and form.is_valid():
        user = form.cleaned_data["user"]
        target = request.GET.get("next", "")
        target = target if target.startswith(area) else reverse(home)
        if has_second_factor(user):
            # The password was right; the code page finishes the sign-in.
            return second_factor_web.code_asked(request, user, next_url=target)
        session_start(request, user)
        return redirect(target)
    return render(request, template, {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def sign_in(request):
    return sign_in_page(
        request, StaffSignInForm, template="staff/login.html", area="/staff/", home="staff-home"
    )


@require_POST
def sign_out(request):
    session_end(request)
    return redirect("staff-login")
