"""The reads both edges (the API and /staff/webhooks/) make."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from clinic.permissions import in_reach
from webhooks.models import Attempt, Delivery, Endpoint


def clinic_endpoints(user):
    """The caller's clinic's endpoints, oldest first: the clinic team's, under the one rule
    of reach (clinic.permissions); a patient or someone of no clinic has none."""
    return in_reach(Endpoint.objects.all(), user, via="", team_only=True).order_by("id")


def endpoint_deliveries(user, endpoint_id: int):
    """The deliveries of one of the caller's clinic's endpoints (another clinic's: 404),
    newest first, with their event and their tries: one query per page and one for the
    tries, however many."""
    endpoint = get_object_or_404(clinic_endpoints(user), pk=endpoint_id)
    tries = Prefetch("tries", queryset=Attempt.objects.order_by("at", "id"))
    return (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event", "endpoint")
        .prefetch_related(tries)
        .order_by("-id")
    )
