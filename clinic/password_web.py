"""Password pages, for every role: "forgot your password?" (/staff/password-reset/ and
/my/password-reset/), the emailed link (/reset/{uid}/{token}/) and the account page's
change of password. The work is clinic.passwords', as for the API, and so are the budgets:
a page's request counts against the same throttle as the API's."""

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.throttling import SimpleRateThrottle

from clinic import account_web, passwords, reset_links, sign_ins
from clinic.services import client_address

# Where the emailed link's token waits between its own URL and the page without it, as
# Django's PasswordResetConfirmView does: the page's address (sent on in a Referer, kept in
# a log or the browser's history) then holds no token.
RESET_TOKEN_SESSION_KEY = "_password_reset_token"
SET_PASSWORD = "set-password"

ASKED = (
    "If this address belongs to an account, we have emailed it a link to set a new "
    "password. The link works for one hour. Nothing arrived? Look in the spam folder, "
    "check the address and ask again."
)
TOO_MANY = "Too many requests from here. Wait a while and try again."
RESET_DONE = (
    "Your new password is set, and every phone and computer that was signed in to your "
    "account has been signed out. Sign in with your new password."
)
CHANGED = "Your password is changed. Your other phones and computers have been signed out."


class ResetRequestForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address")


class NewPasswordForm(forms.Form):
    new_password = forms.CharField(
        label="New password", max_length=128, strip=False, widget=forms.PasswordInput
    )
    new_password_again = forms.CharField(
        label="New password again", max_length=128, strip=False, widget=forms.PasswordInput
    )

    def clean(self):
        data = super().clean()
        first, again = data.get("new_password"), data.get("new_password_again")
        if first and again and first != again:
            self.add_error("new_password_again", "The two new passwords are not the same.")
        return data

    def add_service_errors(self, error: ValidationError) -> None:
        for field, field_messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, field_messages)


class PasswordChangeForm(NewPasswordForm):
    old_password = forms.CharField(
        label="Current password", max_length=128, strip=False, widget=forms.PasswordInput
    )
    field_order = ["old_password", "new_password", "new_password_again"]


class Throttle(SimpleRateThrottle):
    """An API throttle scope's budget for a page: counted under the API's own cache key,
    per client address (as for a caller without a token) or per signed-in user."""

    def __init__(self, scope: str, *, per_user: bool = False):
        self.scope = scope
        self.per_user = per_user
        super().__init__()

    def get_cache_key(self, request, view):
        ident = request.user.pk if self.per_user else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _posted(request):
    # Bound on every POST, an empty one too (`request.POST or None` would leave it unbound).
    return request.POST if request.method == "POST" else None


def _area(area: str) -> dict:
    patient = area == "patient"
    return {
        "base_template": "patient/base.html" if patient else "staff/base.html",
        "login_url": reverse("patient-login" if patient else "staff-login"),
    }


# --- Forgot your password? --------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def reset_request(request, area: str):
    form = ResetRequestForm(_posted(request))
    context = {**_area(area), "form": form, "asked": False}
    status = 200
    if request.method == "POST":
        if not Throttle("password_reset").allow_request(request, None):
            form.add_error(None, TOO_MANY)
            status = 429
        elif form.is_valid():
            passwords.password_reset_request(
                email=form.cleaned_data["email"], address=client_address(request), way="web"
            )
            context.update(asked=True, form=ResetRequestForm(), message=ASKED)
        else:
            status = 400
    return render(request, "passwords/reset_request.html", context, status=status)


# --- The emailed link ---------------------------------------------------------------------


@never_cache
@require_http_methods(["GET"])
def reset_link(request, uidb64: str, token: str):
    """Keeps the token in the session and goes on to the same page without it. Nothing is
    checked yet, so a mail scanner that opens the link spends nothing."""
    request.session[RESET_TOKEN_SESSION_KEY] = token
    return redirect("password-reset-set", uidb64=uidb64)


@never_cache
@require_http_methods(["GET", "POST"])
def reset_set_password(request, uidb64: str):
    token = request.session.get(RESET_TOKEN_SESSION_KEY, "")
    user = reset_links.reset_link_user(uidb64, token)
    if user is None:
        return _link_unusable(request)
    context = {**_area("patient" if user.is_patient else "team"), "reset_user": user}
    form = NewPasswordForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if not Throttle("password_reset_confirm").allow_request(request, None):
            form.add_error(None, TOO_MANY)
            status = 429
        elif form.is_valid():
            try:
                user = passwords.password_reset_confirm(
                    uid=uidb64,
                    token=token,
                    new_password=form.cleaned_data["new_password"],
                    address=client_address(request),
                    way="web",
                )
            except ValidationError as error:
                if "token" in error.message_dict:  # used a moment ago, in another tab
                    return _link_unusable(request)
                form.add_service_errors(error)
            else:
                return _reset_done(request, user)
    return render(request, "passwords/reset_set.html", {**context, "form": form}, status=status)


def _reset_done(request, user):
    # Whoever was signed in on this browser is signed out, as everywhere else for this user;
    # the session (message and all) starts afresh.
    if request.user.is_authenticated:
        sign_ins.session_end(request)
    request.session.pop(RESET_TOKEN_SESSION_KEY, None)
    messages.success(request, RESET_DONE)
    return redirect("patient-login" if user.is_patient else "staff-login")


def _link_unusable(request):
    request.session.pop(RESET_TOKEN_SESSION_KEY, None)
    return render(request, "passwords/reset_unusable.html", {"base_template": "patient/base.html"})


# --- The account page's password section -----------------------------------------------


@never_cache
@require_POST
@account_web.signed_in_required
def change_password(request):
    form = PasswordChangeForm(request.POST)
    if not Throttle("password_change", per_user=True).allow_request(request, None):
        form.add_error(None, "Too many tries. Wait a while and try again.")
        return account_web.render_account(request, status=429, password_form=form)
    if form.is_valid():
        try:
            user = passwords.password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                keep_sign_in=sign_ins.current_sign_in_id(request),
                address=client_address(request),
                way="web",
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            # This browser goes on, under a new session key; the sign-in list follows it.
            update_session_auth_hash(request, user)
            sign_ins.session_key_changed(request)
            messages.success(request, CHANGED)
            own = "patient-account" if user.is_patient else "staff-account"
            return redirect(reverse(own) + "#password")
    return account_web.render_account(request, status=400, password_form=form)
