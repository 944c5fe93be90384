"""What a reminder says, by email, text message and webhook.

The words are Django templates in prescriptions/templates/reminders/ so that a clinic can
adjust them (a template of the same name earlier in TEMPLATES' DIRS wins). Each message
carries the session's check-in link; emails also carry a one-click stop link. A message may
carry one more link from prescriptions.extensions (the questionnaires due that day): in the same
message, never a message of its own.
"""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse

import prescriptions.reminders.links as links
from prescriptions import extensions
from prescriptions.models import Reminder
from prescriptions.reminders.transports import TRANSPORTS, transport_for

# A text message must stay one SMS (see transports/sms_length.py): long first names are
# cut, and the link is kept short (see links.py).
FIRST_NAME_MAX = 12


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    sms: str
    checkin_url: str
    stop_url: str


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def checkin_url(reminder_id: int) -> str:
    return _link_url("checkin-link", links.checkin_token(reminder_id))


def stop_url(reminder_id: int) -> str:
    return _link_url("stop-reminders", links.stop_token(reminder_id))


def _link_url(name: str, token: str) -> str:
    before, after = _around_token(name, settings.SITE_URL, get_script_prefix())
    return f"{before}{token}{after}"


@functools.cache
def _around_token(name: str, site: str, script_prefix: str) -> tuple[str, str]:
    """The link's URL on either side of its token, reversed once (reverse() cost as much as
    a template's rendering, on the path every reminder takes). Tokens are URL-safe as they
    are, so nothing is quoted in between."""
    return tuple(site_url(reverse(name, args=["TOKEN"])).split("TOKEN"))


@functools.cache
def _page_url(site: str, script_prefix: str) -> str:
    return site_url(reverse("patient-home"))


def short_name(first_name: str) -> str:
    name = " ".join(first_name.split())
    return name if len(name) <= FIRST_NAME_MAX else name[:FIRST_NAME_MAX].rstrip(" -")


def reminder_message(
    reminder: Reminder, *, channel: str | None = None, links: dict | None = None
) -> Message:
    """The reminder's words for every channel, or only for `channel`'s transport (the others
    left empty: an email needs no text message, a text message no email). `links`: the extra
    links of a batch of reminders (extensions.reminder_links), else asked for this one."""
    if links is None:
        links = extensions.reminder_links([reminder])
    prescription = reminder.prescription
    context = {
        "first_name": short_name(prescription.patient.first_name),
        "session": reminder.slot,
        # Heat comes before the bedtime session only (the reminder fires that much earlier).
        "heat_minutes": prescription.heat_minutes if reminder.slot == "bedtime" else 0,
        "local_date": reminder.local_date,
        "checkin_url": checkin_url(reminder.id),
        "stop_url": stop_url(reminder.id),
        "page_url": _page_url(settings.SITE_URL, get_script_prefix()),
        "extra_link": links.get(reminder.id),
    }

    @functools.cache
    def render(template: str) -> str:
        return render_to_string(f"reminders/{template}", context)

    transports = TRANSPORTS.values() if channel is None else [transport_for(channel)]
    words = {"subject": "", "text": "", "html": "", "sms": ""}
    for transport in transports:
        words.update(transport.words(render, context))
    return Message(**words, checkin_url=context["checkin_url"], stop_url=context["stop_url"])
