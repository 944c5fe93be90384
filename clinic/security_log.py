"""The clinic's security log: one call per event a clinic would want to know of.

    security_log.record(Event.SIGN_IN, user=user, address=address, way="web")

An entry names who it is about and who did it, the address and a little context, never a
password, a code or a token. It belongs to the clinic of the user it is about (or of the
actor), and only that clinic's clinicians read it (`team/events/`).
"""

from clinic.models import SecurityEvent, User

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


def for_clinic(clinic_id: int):
    """The clinic's log, newest first."""
    return SecurityEvent.objects.filter(clinic_id=clinic_id).order_by("-at", "-id")
