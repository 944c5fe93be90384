"""The team's page (/staff/team/) and joining the team (/join/{token}/).

Everyone on the team reads who is in it; clinicians invite, change roles, switch accounts
off and on, set the clinic's second-factor rule and read the security log. Each write goes
through the same service as the API (clinic.team) and comes back to the page.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import invitations, security_log, sign_ins, team
from clinic.models import User
from clinic.services import client_address
from clinic.team_forms import ClinicSettingsForm, InviteForm, JoinForm, RoleForm
from clinic.web import team_member_required

EVENTS_PER_PAGE = 20
Event = security_log.Event
EVENT_WORDS = {
    Event.SIGN_IN: "Signed in",
    Event.SIGN_IN_FAILED: "Sign-in failed",
    Event.LOCKED_OUT: "Locked out after failed sign-ins",
    Event.PASSWORD_RESET_REQUESTED: "Asked for a password reset",
    Event.PASSWORD_RESET: "Reset their password",
    Event.PASSWORD_CHANGED: "Changed their password",
    Event.SECOND_FACTOR_ADDED: "Set up a second factor",
    Event.SECOND_FACTOR_REMOVED: "Removed their second factor",
    Event.INVITED: "Invited",
    Event.JOINED: "Joined the team",
    Event.ROLE_CHANGED: "Role changed",
    Event.DEACTIVATED: "Deactivated",
    Event.REACTIVATED: "Reactivated",
    Event.SIGNED_OUT_EVERYWHERE: "Signed out everywhere",
    Event.CLINIC_CHANGED: "Changed the clinic's settings",
}


def clinician_only(view):
    """Clinicians manage the team; staff see no buttons, and the server refuses them (403)."""

    @team_member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_clinician:
            raise PermissionDenied("Only clinicians change the team.")
        return view(request, *args, **kwargs)

    return wrapper


def _team_url() -> str:
    return reverse("staff-team")


def _event_words(entry) -> str:
    words = EVENT_WORDS.get(entry.event, entry.event)
    details = entry.details or {}
    if entry.event == Event.INVITED and details.get("email"):
        return f"Invited {details['email']} as {details.get('role', 'a member')}"
    if entry.event == Event.CLINIC_CHANGED and "require_second_factor" in details.get(
        "changes", {}
    ):
        required = details["changes"]["require_second_factor"][1]
        return f"Second factor made {'required' if required else 'optional'} for the team"
    if entry.event == Event.CLINIC_CHANGED and details.get("webhook"):
        hook = details["webhook"]
        if hook.get("change") == "disabled":
            return f"Webhook {hook.get('url')} switched off after 24 hours of failures"
        return f"Webhook {hook.get('url')} {hook.get('change')}"
    if entry.event == Event.ROLE_CHANGED and details.get("after"):
        return f"Role changed from {details.get('before')} to {details['after']}"
    return words


def _events_page(request):
    entries = security_log.for_clinic(request.user).select_related("user", "actor")
    page = Paginator(entries, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    for entry in page:
        entry.words = _event_words(entry)
    return page


def render_team(request, *, status: int = 200, **forms):
    clinic = request.user.clinic
    context = {
        "clinic": clinic,
        "nav": "team",
        "members": list(team.team_members(request.user)),
        "zone": clinic.zone,
        "zone_label": team.zone_label(clinic.timezone),
        "can_manage": request.user.is_clinician,
        "role_choices": RoleForm.base_fields["role"].choices,
    }
    if request.user.is_clinician:
        context["invite_form"] = forms.get("invite_form") or InviteForm()
        context["settings_form"] = forms.get("settings_form") or ClinicSettingsForm(
            initial={"require_second_factor": clinic.require_second_factor}
        )
        context["events"] = _events_page(request)
    return render(request, "team/page.html", context, status=status)


@never_cache
@require_GET
@team_member_required
def team_page(request):
    return render_team(request)


@require_POST
@clinician_only
def invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = team.invitation_create(
                clinic=request.user.clinic,
                invited_by=request.user,
                address=client_address(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. The link in it works once, for "
                f"{int(settings.INVITATION_TTL.total_seconds() // 3600)} hours.",
            )
            return redirect(_team_url())
    return render_team(request, status=400, invite_form=form)


def _member(request, pk: int) -> User:
    """A member of the caller's clinic; a patient or another clinic's member is a 404."""
    return get_object_or_404(team.team_members(request.user), pk=pk)


def _member_update(request, member: User, done: str, **change) -> HttpResponseRedirect:
    try:
        team.member_update(
            member=member, by=request.user, address=client_address(request), **change
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect(_team_url())


def _name(member: User) -> str:
    return member.get_full_name() or member.username


@require_POST
@clinician_only
def change_role(request, pk: int):
    member = _member(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose clinician or staff.")
        return redirect(_team_url())
    role = form.cleaned_data["role"]
    return _member_update(request, member, f"{_name(member)} is now {role}.", role=role)


@never_cache
@require_http_methods(["GET", "POST"])
@clinician_only
def deactivate(request, pk: int):
    """A confirmation first (GET), then the change (POST)."""
    member = _member(request, pk)
    if request.method == "POST":
        return _member_update(
            request,
            member,
            f"{_name(member)} is deactivated: signed out everywhere, and unable to sign in.",
            is_active=False,
        )
    return render(
        request,
        "team/deactivate.html",
        {"clinic": request.user.clinic, "nav": "team", "member": member},
    )


@require_POST
@clinician_only
def reactivate(request, pk: int):
    member = _member(request, pk)
    return _member_update(
        request,
        member,
        f"{_name(member)} is active again and can sign in with their password.",
        is_active=True,
    )


@require_POST
@clinician_only
def clinic_settings(request):
    form = ClinicSettingsForm(request.POST)
    if not form.is_valid():
        return render_team(request, status=400, settings_form=form)
    required = form.cleaned_data["require_second_factor"]
    team.clinic_update(
        clinic=request.user.clinic,
        require_second_factor=required,
        by=request.user,
        address=client_address(request),
    )
    messages.success(
        request,
        "Everyone on the team now needs a second factor."
        if required
        else "A second factor is now optional for the team.",
    )
    return redirect(_team_url())


JOIN_TOKEN_SESSION_KEY = "join_token"


@never_cache
@require_GET
def join_link(request, token: str):
    """The emailed link: keeps the token in the session and goes on to /join/ without it, so
    that no refusal there (a spent link, a weak password) writes the token into a log line
    or a Referer. Nothing is checked yet: a mail scanner opening the link spends nothing."""
    request.session[JOIN_TOKEN_SESSION_KEY] = token
    return redirect("join")


@never_cache
@require_http_methods(["GET", "POST"])
def join(request):
    """The invited person's first visit: which clinic and role, and a password of their
    own; then they are signed in."""
    token = request.session.get(JOIN_TOKEN_SESSION_KEY, "")
    invitation = invitations.invitation_find(token) if token else None
    if invitation is None:
        return render(request, "team/join_unusable.html", status=404)
    form = JoinForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            user = team.invitation_accept(
                token=token,
                password=form.cleaned_data["password"],
                address=client_address(request),
            )
        except ValidationError as error:  # spent by a racing request, or the email taken
            form.add_error(None, " ".join(error.messages))
        else:
            request.session.pop(JOIN_TOKEN_SESSION_KEY, None)
            sign_ins.session_start(request, user, way="join")
            messages.success(request, f"Welcome to {invitation.clinic.name}.")
            return redirect("staff-home")
    return render(
        request,
        "team/join.html",
        {"invitation": invitation, "form": form},
        status=400 if form.errors else 200,
    )
