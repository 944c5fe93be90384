"""The clinic's webhooks page (/staff/webhooks/), for clinicians: the endpoints, adding one
(its secret shown once), switching one off and on, deleting it, and each endpoint's
delivery log with a Replay button. Reads and writes through the same code as the API."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.events import Type
from clinic.services import client_address
from clinic.web import team_member_required
from webhooks import addresses, services
from webhooks.selectors import clinic_endpoints, endpoint_deliveries

DELIVERIES_PER_PAGE = 20
EVERY_TYPE = (addresses.ALL, "Every event type, including those added later")


def clinician_only(view):
    @team_member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_clinician:
            raise PermissionDenied("Only clinicians manage the clinic's webhooks.")
        return view(request, *args, **kwargs)

    return wrapper


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Address (URL)",
        max_length=500,
        help_text="An https:// address on the public internet, where your system listens.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label="Events to send",
        choices=[EVERY_TYPE, *[(value, value) for value in Type.values]],
        widget=forms.CheckboxSelectMultiple,
        initial=[addresses.ALL],
        error_messages={"required": "Choose at least one event type."},
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        problem = addresses.url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean_events(self) -> list[str]:
        chosen = self.cleaned_data["events"]
        # "Every type" ticked with some others still means every type.
        return [addresses.ALL] if addresses.ALL in chosen else sorted(chosen)


def _page(request, *, form=None, created=None, status=200):
    endpoints = list(clinic_endpoints(request.user))
    context = {
        "clinic": request.user.clinic,
        "nav": "webhooks",
        "endpoints": endpoints,
        "disabled": [e for e in endpoints if not e.is_active and e.disabled_at],
        "form": form or EndpointForm(),
        "created": created,
    }
    return render(request, "webhooks/page.html", context, status=status)


@never_cache
@require_GET
@clinician_only
def page(request):
    return _page(request)


@never_cache
@require_POST
@clinician_only
def add(request):
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    endpoint = services.endpoint_create(
        clinic_id=request.user.clinic_id,
        by=request.user,
        address=client_address(request),
        **form.cleaned_data,
    )
    # Answered here rather than after a redirect: the secret is never stored for showing.
    return _page(request, created=endpoint)


def _endpoint(request, pk: int):
    return get_object_or_404(clinic_endpoints(request.user), pk=pk)


@require_POST
@clinician_only
def toggle(request, pk: int):
    endpoint = _endpoint(request, pk)
    switch_on = not endpoint.is_active
    services.endpoint_update(
        endpoint=endpoint, by=request.user, address=client_address(request), is_active=switch_on
    )
    messages.success(
        request,
        f"{endpoint.url} is switched on: new events go to it again."
        if switch_on
        else f"{endpoint.url} is switched off: nothing is sent to it until you switch it on.",
    )
    return redirect("staff-webhooks")


@never_cache
@require_http_methods(["GET", "POST"])
@clinician_only
def delete(request, pk: int):
    """A confirmation first (GET), then the deletion (POST)."""
    endpoint = _endpoint(request, pk)
    if request.method == "POST":
        services.endpoint_delete(
            endpoint=endpoint, by=request.user, address=client_address(request)
        )
        messages.success(request, f"{endpoint.url} is deleted, with its delivery log.")
        return redirect("staff-webhooks")
    context = {"clinic": request.user.clinic, "nav": "webhooks", "endpoint": endpoint}
    return render(request, "webhooks/delete.html", context)


@never_cache
@require_GET
@clinician_only
def log(request, pk: int):
    deliveries = endpoint_deliveries(request.user, pk)
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "clinic": request.user.clinic,
        "nav": "webhooks",
        "endpoint": _endpoint(request, pk),
        "page": page,
    }
    return render(request, "webhooks/log.html", context)


@require_POST
@clinician_only
def replay(request, pk: int, delivery_id: int):
    delivery = get_object_or_404(endpoint_deliveries(request.user, pk), pk=delivery_id)
    if not delivery.endpoint.is_active:
        messages.error(request, "The endpoint is switched off: switch it on, then replay.")
    else:
        services.delivery_replay(delivery=delivery)
        messages.success(
            request, f"Event {delivery.event_id} is on its way again, under the same webhook-id."
        )
    return redirect("staff-webhook-log", pk=pk)
