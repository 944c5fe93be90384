"""The check-in from the patient's own page, and the correction or withdrawal of one made
by mistake."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

import prescriptions.patient_web.day as patient_day
from clinic.audit import Action, audit_record
from prescriptions import alerts, checkins
from prescriptions.models import (
    CheckIn,
    IdempotencyRecord,
    Prescription,
)
from prescriptions.patient_web.access import patient_required
from prescriptions.patient_web.forms import (
    CheckInCorrectionForm,
    WebCheckInForm,
)
from prescriptions.patient_web.home import current_prescription, home_context, report_of
from prescriptions.selectors import checkins_in_reach


@require_POST
@patient_required
def check_in(request, patient):
    form = WebCheckInForm(request.POST)
    prescription = current_prescription(patient)
    if prescription is None or prescription.current_status == Prescription.Status.ENDED:
        messages.info(request, "There is no exercise plan to check in to right now.")
        return redirect("patient-home")
    if not form.is_valid():
        report = report_of(patient)
        context = home_context(request, patient, prescription, report, checkin_form=form)
        return render(request, "patient/home.html", context, status=400)
    data = dict(form.cleaned_data)
    key = f"web-checkin:{data.pop('form_id')}"
    try:
        with transaction.atomic():
            # The form's id claims the submission: a second one of the same form fails here.
            IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                request_fingerprint="",
                response_status=201,
                response_body={},
            )
            checkin = checkins.checkin_record(
                prescription=prescription, performed_at=timezone.now(), **data
            )
    except IntegrityError:
        messages.info(request, "That check-in was already saved.")
        return redirect("patient-home")
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
        return redirect("patient-home")
    audit_record(request, patients=[patient.id], action=Action.CREATE)
    if checkin.red_flags:
        return render(
            request,
            "patient/stop.html",
            {
                "checkin": checkin,
                "just_now": True,
                "emergency": alerts.is_emergency(checkin.red_flags),
            },
        )
    messages.success(request, checkin.advice or "Saved. Thank you!")
    return redirect("patient-home")


def _own_checkin(request, pk: int) -> CheckIn:
    """One of the patient's own check-ins (in their reach); anyone else's is a 404."""
    return get_object_or_404(checkins_in_reach(request.user).select_related("prescription"), pk=pk)


def _correction_page(request, patient, checkin, form, *, status=200, refusal=""):
    zone = patient_day.zones_done_in([checkin])[checkin.id]
    return render(
        request,
        "patient/checkin_correct.html",
        {
            "patient": patient,
            "checkin": checkin,
            "zone_done_in": zone,
            "form": form,
            "correctable": checkins.correctable(checkin),
            "refusal": refusal,
            "window_hours": int(checkins.CORRECTION_WINDOW.total_seconds() // 3600),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@patient_required
def checkin_correct(request, patient, pk: int):
    """A check-in the patient made by mistake, put right within a day of making it."""
    checkin = _own_checkin(request, pk)
    audit_record(request, patients=[patient.id], action=Action.READ)
    if request.method == "GET":
        initial = {name: getattr(checkin, name) for name in checkins.CORRECTABLE}
        return _correction_page(request, patient, checkin, CheckInCorrectionForm(initial=initial))
    form = CheckInCorrectionForm(request.POST)
    if not form.is_valid():
        return _correction_page(request, patient, checkin, form, status=400)
    try:
        corrected = checkins.checkin_correct(
            checkin=checkin, by=request.user, changes=form.cleaned_data
        )
    except ValidationError as error:
        refusal = " ".join(error.messages)
        return _correction_page(request, patient, checkin, form, status=400, refusal=refusal)
    audit_record(request, patients=[patient.id], action=Action.UPDATE)
    saved = ["Your check-in is corrected.", corrected.advice]
    messages.success(request, " ".join(filter(None, saved)))
    return redirect(f"{reverse('patient-home')}#your-check-ins")


@require_POST
@patient_required
def checkin_withdraw(request, patient, pk: int):
    checkin = _own_checkin(request, pk)
    try:
        checkins.checkin_withdraw(checkin=checkin, by=request.user)
    except ValidationError as error:
        initial = {name: getattr(checkin, name) for name in checkins.CORRECTABLE}
        return _correction_page(
            request,
            patient,
            checkin,
            CheckInCorrectionForm(initial=initial),
            status=400,
            refusal=" ".join(error.messages),
        )
    audit_record(request, patients=[patient.id], action=Action.UPDATE)
    messages.success(request, "Your check-in is withdrawn: it no longer counts.")
    return redirect(f"{reverse('patient-home')}#your-check-ins")
