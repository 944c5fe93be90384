"""What the patient sets on their own page: reminder settings, time zone and phone, a new
calendar address, and the download of their data."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinic.audit import Action, audit_record
from patients.models import ReminderPreference
from patients.services import (
    calendar_feed_reset,
    patient_update,
    reminder_preference_update,
)
from prescriptions.api.me import export_response
from prescriptions.patient_web.access import patient_required
from prescriptions.patient_web.forms import (
    ReminderForm,
    ZoneAndPhoneForm,
)
from prescriptions.patient_web.home import current_prescription, home_context, report_of


@require_POST
@patient_required
def calendar_reset(request, patient):
    """A new calendar address (as the API's me/calendar/reset/); the old one stops working."""
    calendar_feed_reset(patient=patient)
    audit_record(request, patients=[patient.id], action=Action.UPDATE)
    messages.success(
        request,
        "Your calendar has a new address. The old one no longer works: "
        "subscribe to the new one in your calendar app.",
    )
    return redirect(f"{reverse('patient-home')}#calendar")


@require_POST
@patient_required
def reminder_settings(request, patient):
    preference, _ = ReminderPreference.objects.get_or_create(patient=patient)
    return _settings_saved(
        request,
        patient,
        ReminderForm(request.POST, patient=patient),
        lambda data: reminder_preference_update(preference=preference, changes=data),
        form_name="reminder_form",
        saved="Your reminder settings are saved.",
        anchor="reminders",
    )


@require_POST
@patient_required
def zone_and_phone(request, patient):
    return _settings_saved(
        request,
        patient,
        ZoneAndPhoneForm(request.POST, patient=patient),
        lambda data: patient_update(
            patient=patient, timezone_name=data["timezone"], phone=data["phone"]
        ),
        form_name="zone_form",
        saved="Your time zone and phone number are saved.",
        anchor="zone-and-phone",
    )


def _settings_saved(request, patient, form, save, *, form_name: str, saved: str, anchor: str):
    """A settings form of the patient's page: saved through its service, whose refusal is
    shown at the field it names, or the page again (400) with the form's errors."""
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
    if not form.is_valid():
        context = home_context(
            request, patient, current_prescription(patient), report_of(patient), **{form_name: form}
        )
        return render(request, "patient/home.html", context, status=400)
    audit_record(request, patients=[patient.id], action=Action.UPDATE)
    messages.success(request, saved)
    return redirect(f"{reverse('patient-home')}#{anchor}")


@require_GET
@patient_required
def export(request, patient):
    audit_record(request, patients=[patient.id], action=Action.EXPORT)
    return export_response(patient)
