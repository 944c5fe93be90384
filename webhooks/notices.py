"""What the clinic's pages say about its webhooks: endpoints switched off by failures."""

from webhooks.models import Endpoint


def disabled(clinic_id: int):
    return Endpoint.objects.filter(clinic_id=clinic_id, is_active=False).exclude(disabled_at=None)


def disabled_endpoints(clinic_id: int) -> dict:
    """The notice on /staff/ (one query): empty when nothing is switched off."""
    endpoints = list(disabled(clinic_id).order_by("disabled_at").only("id", "url", "disabled_at"))
    return {"disabled": endpoints} if endpoints else {}
