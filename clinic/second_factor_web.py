"""The second factor on the web pages, for every role: the sign-in's second step (the code
asked after the right password), the setup page with its QR code, turning it off from the
account page, and the middleware that leads a clinic team member whose clinic requires a
second factor to set one up before anything else."""

import time

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic import account_web, sign_ins
from clinic.models import User
from clinic.second_factor import (
    SecondFactorRefused,
    has_second_factor,
    otpauth_url,
    pending_device,
    second_factor_confirm,
    second_factor_disable,
    second_factor_required,
    second_factor_setup,
    second_factor_sign_in,
    secret_text,
)
from clinic.services import SignInLocked, client_address, sign_in_allowed

# Between the right password and the code: who, since when, and where to go after.
PENDING = "second_factor_pending"
# Long enough to find the phone and open the app, short enough that a browser left at the
# code step is not half signed in for long.
PENDING_SECONDS = 5 * 60
# What the middleware knows of this session: ON (confirmed: nothing more to ask, for the
# session's life), NOT_REQUIRED (asked again after RECHECK_SECONDS, so a clinic that turns
# the requirement on reaches sessions already open), NEEDED (led to setup).
STATE = "second_factor"
STATE_AT = "second_factor_checked_at"
ON, NOT_REQUIRED, NEEDED = "on", "not_required", "needed"
RECHECK_SECONDS = 5 * 60


def _area(request) -> str:
    return "patient" if request.path.startswith("/my/") else "staff"


def _base_template(user) -> str:
    if user.is_authenticated and user.is_clinic_team:
        return "staff/team_base.html"
    return "patient/base.html" if user.is_authenticated and user.is_patient else "staff/base.html"


# --- The sign-in's second step ------------------------------------------------------------


def code_asked(request, user: User, *, next_url: str):
    """After the right password of a user whose second factor is on: not signed in yet;
    the code page finishes the sign-in."""
    request.session[PENDING] = {"user": user.id, "at": time.time(), "next": next_url}
    area = "patient" if user.is_patient else "staff"
    return redirect(f"{area}-login-code")


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=64,
        label="Code",
        error_messages={"required": "Type the code from your app."},
    )


def _pending_user(request) -> tuple[User | None, str]:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, ""
    user = User.objects.filter(id=pending.get("user"), is_active=True).first()
    return user, pending.get("next", "")


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code(request):
    area = _area(request)
    login = reverse(f"{area}-login")
    user, next_url = _pending_user(request)
    if user is None:
        request.session.pop(PENDING, None)
        messages.info(request, "Sign in again: the code step waits only a few minutes.")
        return redirect(login)
    recovery = request.GET.get("recovery") == "1" or request.POST.get("recovery") == "1"
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = client_address(request)
        try:
            sign_in_allowed(username=user.username, address=address)
        except SignInLocked:
            form.add_error(None, "Too many failed attempts; wait a few minutes and try again.")
        else:
            if second_factor_sign_in(
                user=user, code=form.cleaned_data["code"], username=user.username, address=address
            ):
                request.session.pop(PENDING, None)
                sign_ins.session_start(request, user)
                request.session[STATE] = ON
                return redirect(next_url or reverse(f"{area}-home"))
            form.add_error(
                "code",
                "That code is not right, or it has been used already. Wait for the next code "
                "in your app and try again.",
            )
    context = {
        "form": form,
        "recovery": recovery,
        "base_template": "patient/base.html" if area == "patient" else "staff/base.html",
        "login_url": login,
    }
    return render(request, "second_factor/code.html", context, status=400 if form.errors else 200)


# --- Setting it up and turning it off -----------------------------------------------------


def _qr_svg(url: str) -> str:
    """The QR code as inline SVG, drawn here: no image from elsewhere, nothing inline for
    the content security policy to refuse (segno writes attributes, not styles)."""
    qr = segno.make(url, error="m")
    return qr.svg_inline(scale=4, title="QR code for your authenticator app", svgclass="qr")


@never_cache
@require_http_methods(["GET", "POST"])
@account_web.signed_in_required
def setup(request):
    """The QR code and the secret as text; the app's code confirms it, and the answer shows
    the recovery codes this once."""
    user = request.user
    own = reverse("patient-second-factor" if user.is_patient else "staff-second-factor")
    if request.path != own:
        return redirect(own)
    account = reverse("patient-account" if user.is_patient else "staff-account")
    if has_second_factor(user) and "new-phone" not in request.GET:
        request.session[STATE] = ON
        messages.info(request, "Your second factor is already on.")
        return redirect(account)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor_confirm(
                user=user, code=form.cleaned_data["code"], address=client_address(request)
            )
        except SecondFactorRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            if codes is not None:
                request.session[STATE] = ON
                home = reverse("patient-home" if user.is_patient else "staff-home")
                context = {"base_template": _base_template(user), "codes": codes, "home": home}
                return render(request, "second_factor/recovery_codes.html", context)
            form.add_error(
                "code", "That code is not right. Type the code your app shows now, then send."
            )
    device = pending_device(user) or second_factor_setup(user=user)
    context = {
        "base_template": _base_template(user),
        "clinic": user.clinic,
        "nav": "account",
        "form": form,
        "qr": _qr_svg(otpauth_url(device)),
        "secret": secret_text(device),
        "required": second_factor_required(user),
        "account_url": account,
    }
    return render(request, "second_factor/setup.html", context, status=400 if form.errors else 200)


@require_POST
@account_web.signed_in_required
def disable(request):
    """Turns it off from the account page, given a code; a wrong one shows the page again."""
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            removed = second_factor_disable(
                user=request.user, code=form.cleaned_data["code"], address=client_address(request)
            )
        except SecondFactorRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            if removed:
                request.session.pop(STATE, None)
                messages.success(
                    request, "Your second factor is off: signing in asks for your password only."
                )
                return redirect("patient-account" if request.user.is_patient else "staff-account")
            form.add_error("code", "That code is not right, or it has been used already.")
    return account_web.render_account(request, status=400, second_factor_form=form)


# --- Required by the clinic ---------------------------------------------------------------


class SecondFactorSetupMiddleware:
    """Leads a clinician or staff member whose clinic requires a second factor, and who has
    none yet, to the setup page from every other page (but signing out).

    Only sessions made by a sign-in (sign_ins.session_start) are looked at, as the session
    limits do; the answer is kept in the session, so a confirmed second factor costs no
    query per request afterwards."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_clinic_team
            and sign_ins.SIGNED_IN_AT in request.session
            and not self._exempt(request.path)
            and self._needed(request, user)
        ):
            return redirect("staff-second-factor")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        # The API answers Bearer tokens, never sessions; it has its own 403 at auth/token/.
        open_paths = (reverse("staff-second-factor"), reverse("staff-logout"))
        return path in open_paths or path.startswith((settings.STATIC_URL, "/api/"))

    @staticmethod
    def _needed(request, user) -> bool:
        session = request.session
        state = session.get(STATE)
        if state == ON:
            return False
        if state == NOT_REQUIRED and time.time() - session.get(STATE_AT, 0) < RECHECK_SECONDS:
            return False
        if not second_factor_required(user):
            session[STATE], session[STATE_AT] = NOT_REQUIRED, time.time()
            return False
        if has_second_factor(user):
            session[STATE] = ON
            return False
        session[STATE] = NEEDED
        return True
