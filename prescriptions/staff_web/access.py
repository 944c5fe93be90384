from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from clinic.web import team_member_required
from patients.models import Patient
from patients.selectors import patients_in_reach


def clinician_required(view):
    """Clinicians only; staff see no buttons, and the server refuses them anyway (403)."""

    @team_member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_clinician:
            raise PermissionDenied("Only clinicians change clinical data.")
        return view(request, *args, **kwargs)

    return wrapper


def patient_in_reach(request, pk: int) -> Patient:
    """The patient when they are in the caller's reach (patients.selectors); another
    clinic's is a 404."""
    return get_object_or_404(
        patients_in_reach(request.user).select_related("user", "clinic", "reminder_preference"),
        pk=pk,
    )


def back_to(request, default: str) -> str:
    """Where a form returns: the page it came from, when that is one of these pages."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/staff/") and url_has_allowed_host_and_scheme(target, None):
        return target
    return default
