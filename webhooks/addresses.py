"""Which URLs a clinic may register: checked when an endpoint is added or changed (the API
and the page answer 400 on `url`), and again at every post, after the host name is
resolved (prescriptions.reminders.webhook_address), as a name may resolve elsewhere later."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from clinic.addresses import url_host_public
from clinic.events import TYPES

ALL = "*"


def url_problem(url: str) -> str | None:
    """Why the clinic cannot register `url` (None: it can). Under WEBHOOKS_ALLOW_LOCAL
    (development, the tests, the demo), http:// and this machine's addresses are fine."""
    allow_local = settings.WEBHOOKS_ALLOW_LOCAL
    schemes = ["https", "http"] if allow_local else ["https"]
    try:
        URLValidator(schemes=schemes)(url)
    except ValidationError:
        return "Use an https:// address." if not allow_local else "Use an http(s):// address."
    parts = urlsplit(url)
    if parts.username or parts.password:
        return "Leave the user name and password out of the address: deliveries are signed."
    if allow_local or url_host_public(url):
        return None  # a host name's addresses are checked again at each post
    return "Use an address on the public internet, not a private or local one."


def events_problem(events) -> str | None:
    """Why `events` is not a list of event types, or ["*"] for all of them."""
    if not isinstance(events, list) or not events:
        return 'Give a list of event types, or ["*"] for every type.'
    if not all(isinstance(name, str) for name in events):
        return "Each event type is a string."
    if ALL in events:
        return None if events == [ALL] else '"*" stands alone: it already means every type.'
    unknown = sorted(set(events) - TYPES)
    if unknown:
        return f"Unknown event type{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}."
    return None
