from django.db.models import QuerySet
from rest_framework.permissions import SAFE_METHODS, BasePermission

from clinic.models import User

CLINICIAN = User.Role.CLINICIAN
STAFF = User.Role.STAFF
PATIENT = User.Role.PATIENT
CLINIC_TEAM = frozenset({CLINICIAN, STAFF})
EVERYONE = frozenset({CLINICIAN, STAFF, PATIENT})


class RolePermission(BasePermission):
    """Lets a role in when the view lists it for the request's kind of method.

    Views declare `read_roles` (GET, HEAD, OPTIONS) and `write_roles` (everything else).
    A role outside the list gets 403 before any object is looked up, so the answer says
    nothing about whether the object exists. A method the view does not answer at all is
    let through to DRF's 405, which says so, rather than a 403 that suggests another role
    could use it.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True
        if request.method in SAFE_METHODS:
            roles = getattr(view, "read_roles", frozenset())
        else:
            roles = getattr(view, "write_roles", frozenset())
        return user.role in roles


def in_reach(queryset: QuerySet, user, *, via: str = "patient", team_only: bool = False):
    """The rows of `queryset` the user may see: the clinic team their clinic's, a patient
    their own, anyone else nothing.

    This is the one rule of reach: every read of the API, the staff pages and the exports
    is scoped by it, through each app's selectors (patients.selectors,
    prescriptions.selectors, …), which name the path once per model. `via` is the path from
    the queryset's model to its patient ("" when the queryset is of patients). Rows the
    clinic owns outright, of no patient (its webhooks, its team), pass `team_only`: `via`
    is then the path to what holds the clinic ("" when the model has it), and no patient
    reaches them.
    """
    prefix = f"{via}__" if via else ""
    # The schema generator calls views signed out, with a user that has no role.
    role = getattr(user, "role", None)
    if role in CLINIC_TEAM:
        return queryset.filter(**{f"{prefix}clinic_id": user.clinic_id})
    if role == PATIENT and not team_only:
        return queryset.filter(**{f"{prefix}user": user})
    return queryset.none()
