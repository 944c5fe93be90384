"""/staff/prescriptions/{id}/questionnaires/: the clinician changes which questionnaires a
prescription asks for, and when (the same rules and service as PUT
prescriptions/{id}/questionnaires/)."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from clinic.audit import Action, audit_record
from outcomes import schedules
from outcomes.models import QuestionnaireSchedule
from outcomes.schedule_form import ScheduleForm
from prescriptions.selectors import prescriptions_in_reach
from prescriptions.staff_web import clinician_required


@require_http_methods(["GET", "POST"])
@clinician_required
def change_schedule(request, pk: int):
    prescription = get_object_or_404(
        prescriptions_in_reach(request.user).select_related("patient"), pk=pk
    )
    patient = prescription.patient
    current = QuestionnaireSchedule.objects.filter(prescription=prescription)
    form = ScheduleForm(request.POST if request.method == "POST" else None, current=current)
    back = reverse("staff-patient", args=[patient.id]) + "#outcomes"
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            schedules.questionnaire_schedule_replace(
                prescription=prescription,
                entries=form.value() or [],  # nothing ticked: none asked
            )
            audit_record(request, patients=[patient.id], action=Action.UPDATE)
        messages.success(request, f"The questionnaires for {patient} were changed.")
        return redirect(back)
    return render(
        request,
        "outcomes/schedule_page.html",
        {"clinic": request.user.clinic, "patient": patient, "form": form, "back": back},
        status=400 if form.errors else 200,
    )
