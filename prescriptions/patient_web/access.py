"""The patient's signing in and out of their own pages, and activating their account
with the code their clinic gave them; `patient_required` guards every page."""

from functools import wraps

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clinic.sign_ins import session_end, session_start
from clinic.web import sign_in_page
from patients.services import (
    patient_activate,
    patient_pages_url,
)
from prescriptions.patient_web.forms import (
    ActivateForm,
    ActivateThrottle,
    PatientSignInForm,
)


def patient_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated or not request.user.is_patient:
            return redirect(f"{reverse('patient-login')}?next={request.path}")
        return view(request, request.user.patient, *args, **kwargs)

    return wrapper


@require_http_methods(["GET", "POST"])
def sign_in(request):
    return sign_in_page(
        request, PatientSignInForm, template="patient/login.html", area="/my/", home="patient-home"
    )


@require_http_methods(["GET", "POST"])
def activate(request):
    """A patient's first visit: the code from the clinic and a password of their own."""
    form = ActivateForm(request.POST or None)
    if request.method == "POST":
        if not ActivateThrottle().allow_request(request, None):
            form.add_error(None, "Too many tries; wait a minute and try again.")
        elif form.is_valid():
            try:
                user = patient_activate(
                    code=form.cleaned_data["code"], password=form.cleaned_data["password"]
                )
            except ValidationError:  # spent by a racing request a moment ago
                form.add_error(None, "This code has just been used. Sign in instead.")
            else:
                session_start(request, user, way="activation")
                return redirect("patient-home")
    status = 400 if form.errors else 200
    return render(
        request,
        "patient/activate.html",
        {"form": form, "patient_pages": patient_pages_url()},
        status=status,
    )


@require_POST
def sign_out(request):
    session_end(request)
    return redirect("patient-login")
