"""Where a user is signed in: API tokens and web sessions, each a `SignIn` row that its
owner can list and end, with the limits a clinic's accounts need.

- A clinician's or staff member's API token lasts CLINIC_TOKEN_TTL_HOURS (12); a patient's
  TOKEN_TTL_HOURS. Their web session ends SESSION_IDLE_MINUTES after its last request and
  SESSION_MAX_HOURS after sign-in (`SessionLimitsMiddleware`); a patient's lasts Django's
  SESSION_COOKIE_AGE.
- Ending a sign-in deletes the token or the session that lets requests in; the row stays,
  with `ended_at`, as a record.
"""

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication

from clinic import security_log
from clinic.models import ApiToken, SignIn, User
from clinic.services import client_address, sign_in_succeeded

# A sign-in's last use is written at most this often: a write per request would cost every
# request a round trip (and on SQLite the one write lock) for a figure shown to the minute.
LAST_USED_PRECISION = timedelta(minutes=1)
SESSION_KEY = "sign_in"
SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:200]


def token_ttl(user: User) -> timedelta:
    if user.is_clinic_team:
        return timedelta(hours=settings.CLINIC_TOKEN_TTL_HOURS)
    return settings.REST_KNOX["TOKEN_TTL"]


@transaction.atomic
def token_issue(*, user: User, request=None, way: str = "api") -> tuple[str, datetime]:
    """A new API token for one device, logged as a sign-in; the plain token is returned
    once and stored hashed (knox)."""
    address = client_address(request) if request is not None else ""
    ttl = token_ttl(user)
    sign_in = SignIn.objects.create(
        user=user,
        kind=SignIn.Kind.TOKEN,
        expires_at=timezone.now() + ttl,
        last_used_at=timezone.now(),
        address=address,
        user_agent=_user_agent(request) if request is not None else "",
    )
    instance, token = ApiToken.objects.create(user=user, expiry=ttl, sign_in=sign_in)
    _signed_in(user, address, way)
    return token, instance.expiry


def session_start(request, user: User, *, way: str = "web") -> SignIn:
    """Signs the user in on this browser (Django's session) and lists the session."""
    login(request, user)
    now = timezone.now()
    if user.is_clinic_team:
        expires_at = now + timedelta(hours=settings.SESSION_MAX_HOURS)
        # The stored session outlives the idle limit so that SessionLimitsMiddleware, not a
        # silent expiry, ends it: the person is told why and led back to their page.
        request.session.set_expiry(settings.SESSION_MAX_HOURS * 3600)
    else:
        expires_at = now + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    # The key is fixed now (login() gave a new one); saving makes it exist to be listed.
    request.session.save()
    address = client_address(request)
    sign_in = SignIn.objects.create(
        user=user,
        kind=SignIn.Kind.SESSION,
        expires_at=expires_at,
        last_used_at=now,
        address=address,
        user_agent=_user_agent(request),
        session_key=request.session.session_key,
    )
    request.session[SESSION_KEY] = sign_in.id
    request.session[SIGNED_IN_AT] = request.session[SEEN_AT] = time.time()
    _signed_in(user, address, way)
    return sign_in


def _signed_in(user: User, address: str, way: str) -> None:
    sign_in_succeeded(username=user.username, address=address)
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    security_log.record(security_log.Event.SIGN_IN, user=user, address=address, way=way)


def session_key_changed(request) -> None:
    """After Django gave the session a new key (a password change keeps its own session
    signed in with a new key), the listed sign-in follows it."""
    sign_in_id = request.session.get(SESSION_KEY)
    if sign_in_id:
        request.session.save()
        SignIn.objects.filter(id=sign_in_id).update(session_key=request.session.session_key)


def current_sign_in_id(request) -> int | None:
    """The sign-in a request came with: its token's, or its session's."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return auth.sign_in_id
    session = getattr(request, "session", None)
    return session.get(SESSION_KEY) if session is not None else None


def open_sign_ins(user: User):
    """The user's sign-ins still in force, newest first."""
    now = timezone.now()
    return (
        SignIn.objects.filter(user=user, ended_at__isnull=True, expires_at__gt=now)
        .exclude(kind=SignIn.Kind.TOKEN, api_token__isnull=True)
        .order_by("-created_at", "-id")
    )


@transaction.atomic
def sign_ins_end(*, user: User, sign_ins=None, keep: int | None = None) -> int:
    """Ends the given sign-ins of the user (default: all of them), except `keep`: their
    tokens and sessions stop working at once. Returns how many were in force."""
    chosen = SignIn.objects.filter(user=user, ended_at__isnull=True)
    if sign_ins is not None:
        chosen = chosen.filter(id__in=[s.id if isinstance(s, SignIn) else s for s in sign_ins])
    if keep is not None:
        chosen = chosen.exclude(id=keep)
    chosen = list(chosen.select_for_update())
    ApiToken.objects.filter(sign_in__in=chosen).delete()
    # A session not listed (made before sign-ins were) has no key here: the user's password
    # change or deactivation ends it through Django's own checks.
    for key in {s.session_key for s in chosen if s.session_key}:
        SessionStore(session_key=key).delete()
    SignIn.objects.filter(id__in=[s.id for s in chosen]).update(ended_at=timezone.now())
    # Tokens made outside token_issue before this release have no sign-in to end by.
    if sign_ins is None:
        ApiToken.objects.filter(user=user).exclude(sign_in_id=keep).delete()
    return len(chosen)


def session_end(request) -> None:
    """Signs this browser out (the sign-out button, or a session past its limits)."""
    sign_in_id = request.session.get(SESSION_KEY)
    if sign_in_id:
        SignIn.objects.filter(id=sign_in_id, ended_at__isnull=True).update(ended_at=timezone.now())
    logout(request)


@transaction.atomic
def sign_out_everywhere(*, user: User, address: str) -> None:
    """Every sign-in of the user ends, the one in use too: a lost phone, a shared computer
    left signed in."""
    sign_ins_end(user=user)
    security_log.record(
        security_log.Event.SIGNED_OUT_EVERYWHERE, user=user, actor=user, address=address
    )


def sign_in_end(sign_in: SignIn) -> None:
    sign_ins_end(user=sign_in.user, sign_ins=[sign_in])


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's Bearer tokens, noting each token's last use (to the minute). The OpenAPI
    document describes it as knox's (clinic.api.schema)."""

    def validate_user(self, auth_token):
        user, auth_token = super().validate_user(auth_token)
        sign_in = auth_token.sign_in
        now = timezone.now()
        if sign_in.last_used_at is None or now - sign_in.last_used_at > LAST_USED_PRECISION:
            SignIn.objects.filter(id=sign_in.id).update(last_used_at=now)
            sign_in.last_used_at = now
        return user, auth_token


class SessionLimitsMiddleware:
    """Ends a clinician's or staff member's web session SESSION_IDLE_MINUTES after its last
    request or SESSION_MAX_HOURS after sign-in, and says so on the sign-in page, which then
    leads back to the page (with its query) they were on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_clinic_team:
            ended = self._ended(request)
            if ended:
                return self._signed_out(request, ended)
        return self.get_response(request)

    def _ended(self, request) -> str | None:
        session = request.session
        now = time.time()
        signed_in_at = session.get(SIGNED_IN_AT)
        seen_at = session.get(SEEN_AT)
        if signed_in_at is None or seen_at is None:
            return None  # an admin's or a test's session, not made by session_start
        if now - signed_in_at > settings.SESSION_MAX_HOURS * 3600:
            return f"You were signed in for {settings.SESSION_MAX_HOURS} hours"
        if now - seen_at > settings.SESSION_IDLE_MINUTES * 60:
            return f"Nothing happened for {settings.SESSION_IDLE_MINUTES} minutes"
        if now - seen_at > LAST_USED_PRECISION.total_seconds():
            session[SEEN_AT] = now
            SignIn.objects.filter(id=session.get(SESSION_KEY)).update(
                last_used_at=timezone.now(),
                expires_at=min(
                    timezone.now() + timedelta(minutes=settings.SESSION_IDLE_MINUTES),
                    datetime.fromtimestamp(signed_in_at + settings.SESSION_MAX_HOURS * 3600, UTC),
                ),
            )
        return None

    def _signed_out(self, request, why: str):
        back_to = request.get_full_path() if request.method == "GET" else _referer_path(request)
        session_end(request)
        messages.info(request, f"{why}, so your session ended to keep patients' data safe.")
        login_url = reverse("staff-login")
        return redirect(f"{login_url}?{urlencode({'next': back_to})}" if back_to else login_url)


def _referer_path(request) -> str:
    """The page a form was sent from, when it is on this site."""
    referer = request.META.get("HTTP_REFERER", "")
    host = request.get_host()
    for scheme in ("https://", "http://"):
        prefix = f"{scheme}{host}"
        if referer.startswith(prefix):
            return referer[len(prefix) :] or "/"
    return ""
