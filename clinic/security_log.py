"""The clinic's security log: one call per event a clinic would want to know of.

    security_log.record(Event.SIGN_IN, user=user, address=address, way="web")

An entry names who it is about and who did it, the address and a little context, never a
password, a code or a token. It belongs to the clinic of the user it is about (or of the
actor), and only that clinic's clinicians read it (`team/events/`).
"""

from clinic.models import SecurityEvent, User
from clinic.permissions import in_reach

Event = SecurityEvent.Kind


def record(
    event: str,
    *,
    user: User | None = None,
    actor: User | None = None,
    address: str = "",
    username_tried: str = "",
    clinic_id: int | None = None,
    **details,
) -> SecurityEvent:
    """Appends one entry; `details` are small plain values (the way in, a role before and
    after). Called inside the change's own transaction where there is one. `clinic_id`
    for what the system did on its own, with nobody to name (a webhook switched off)."""
    someone = user or actor
    return SecurityEvent.objects.create(
        event=event,
        clinic_id=clinic_id or getattr(someone, "clinic_id", None),
        user=user,
        actor=actor,
        address=address[:64],
        username_tried=username_tried[:150],
        details=details,
    )


def for_clinic(user):
    """The caller's clinic's log, newest first: the clinic team's, under the one rule of
    reach (clinic.permissions); a patient or someone of no clinic reads none."""
    return in_reach(SecurityEvent.objects.all(), user, via="", team_only=True).order_by(
        "-at", "-id"
    )
