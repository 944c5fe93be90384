"""What a clinician does from the pages: enrol, prescribe, change the plan, pause, resume,
end, acknowledge. A form validates; the service the API uses acts."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clinic.audit import Action, audit_record
from patients import services as patient_services
from patients.models import ReminderPreference
from prescriptions import alerts, extensions, services
from prescriptions.models import Prescription, Protocol
from prescriptions.schedule import local_today
from prescriptions.selectors import alerts_in_reach, prescriptions_in_reach
from prescriptions.staff_web.access import back_to, clinician_required, patient_in_reach
from prescriptions.staff_web.forms import (
    AcknowledgeForm,
    ArchiveForm,
    EnrolForm,
    PatientEditForm,
    PlanForm,
    PrescribeForm,
    StatusChangeForm,
    plan_initial,
    service_errors_onto,
)

STATUS_CHANGES = {
    "pause": (Prescription.Status.PAUSED, "paused"),
    "resume": (Prescription.Status.ACTIVE, "resumed"),
    "end": (Prescription.Status.ENDED, "ended"),
}


# Where the enrol view leaves a new patient's code for their page to show once.
ENROLLED_CODE = "enrolled_code"


def _patient_url(patient_id: int) -> str:
    return reverse("staff-patient", args=[patient_id])


@require_http_methods(["GET", "POST"])
@clinician_required
def enrol(request):
    clinic = request.user.clinic
    form = EnrolForm(request.POST or None, initial={"timezone": clinic.timezone})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enrolment = patient_services.patient_enrol(
            clinic=clinic,
            enrolled_by=request.user,
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"],
            timezone_name=data["timezone"],
        )
        audit_record(request, patients=[enrolment.patient.id], action=Action.CREATE)
        # The code is stored as a digest only: the patient's page shows it this once, from
        # the session (patient.py pops it), so a reload or the back button cannot show it
        # again and the form is not sent twice.
        request.session[ENROLLED_CODE] = {
            "patient": enrolment.patient.id,
            "code": enrolment.activation_code,
            "expires_at": enrolment.activation_expires_at.isoformat(),
        }
        messages.success(request, f"{enrolment.patient} is enrolled.")
        return redirect(_patient_url(enrolment.patient.id))
    return render(
        request,
        "staff/enrol.html",
        {
            "clinic": clinic,
            "form": form,
            "nav": "enrol",
            "patient_pages": patient_services.patient_pages_url(),
        },
        status=400 if form.errors else 200,
    )


def _plan(data: dict) -> dict:
    """What the plan form hands to a prescription's writes."""
    return {name: data[name] for name in ("slots", "end_date", "as_needed", "heat_prep", "notes")}


def _plan_page(request, form, patient, protocol, *, editing=None, inputs=()):
    """The plan form, to prescribe (editing None) or to change a prescription's plan;
    `inputs`: what other apps add to prescribing, (its template, its form) each."""
    invalid = form.errors or any(input_form.errors for _, input_form in inputs)
    return render(
        request,
        "staff/prescribe.html",
        {
            "clinic": request.user.clinic,
            "patient": patient,
            "protocol": protocol,
            "form": form,
            "editing": editing,
            "inputs": [{"template": template, "form": f} for template, f in inputs],
        },
        status=400 if invalid else 200,
    )


@require_http_methods(["GET", "POST"])
@clinician_required
def prescribe(request, pk: int):
    patient = patient_in_reach(request, pk)
    if patient.archived_at is not None:
        # Out of the clinic's care: nothing would remind them; bring them back first.
        messages.info(request, "This patient is archived: bring them back into care first.")
        return redirect(_patient_url(patient.id))
    protocol = Protocol.objects.get(slug="knee-rocks")
    today = local_today(patient.zone)
    form = PrescribeForm(
        request.POST or None,
        today=today,
        initial={**plan_initial(protocol), "start_date": today},
    )
    inputs = {
        item.name: (item.template, item.form(request.POST or None, item.name))
        for item in extensions.prescribe_inputs()
    }
    valid = [form.is_valid()] + [f.is_valid() for _, f in inputs.values()]
    if request.method == "POST" and all(valid):
        data = form.cleaned_data
        try:
            services.prescription_create(
                patient=patient,
                clinician=request.user,
                protocol=protocol,
                start_date=data["start_date"],
                inputs={name: f.value() for name, (_, f) in inputs.items()},
                **_plan(data),
            )
        except ValidationError as error:
            service_errors_onto(form, error)
        else:
            audit_record(request, patients=[patient.id], action=Action.CREATE)
            messages.success(request, f"Knee rocks prescribed for {patient}.")
            return redirect(_patient_url(patient.id))
    return _plan_page(request, form, patient, protocol, inputs=inputs.values())


@require_http_methods(["GET", "POST"])
@clinician_required
def change_plan(request, pk: int):
    prescription = get_object_or_404(
        prescriptions_in_reach(request.user)
        .select_related("patient", "protocol")
        .prefetch_related("slots"),
        pk=pk,
    )
    patient = prescription.patient
    slots = {slot.kind: slot.time for slot in prescription.slots.all()}
    initial = {
        **plan_initial(prescription.protocol),
        "heat_prep": prescription.heat_prep,
        "as_needed": prescription.as_needed,
        "end_date": prescription.end_date,
        "notes": prescription.notes,
    }
    for kind in ("morning", "bedtime"):
        initial[kind] = kind in slots
        if kind in slots:
            initial[f"{kind}_time"] = slots[kind]
    form = PlanForm(request.POST or None, initial=initial, start=prescription.start_date)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.prescription_update(
                prescription=prescription,
                clear_end_date=data["end_date"] is None,
                by=request.user,
                **_plan(data),
            )
        except ValidationError as error:
            service_errors_onto(form, error)
        else:
            audit_record(request, patients=[patient.id], action=Action.UPDATE)
            messages.success(request, f"The plan for {patient} was changed.")
            return redirect(_patient_url(patient.id))
    return _plan_page(request, form, patient, prescription.protocol, editing=prescription)


@require_http_methods(["GET", "POST"])
@clinician_required
def change_status(request, pk: int, change: str):
    """Pause or resume (one click from the patient's page), or end: ending cannot be
    undone, so the page's End leads here first (GET), to confirm and give the reason."""
    prescription = get_object_or_404(
        prescriptions_in_reach(request.user).select_related("patient"), pk=pk
    )
    patient = prescription.patient
    to, done = STATUS_CHANGES[change]
    form = StatusChangeForm(
        request.POST if request.method == "POST" else None,
        tz=patient.zone,
        reason_required=change == "end",
    )
    if form.is_valid():
        try:
            services.prescription_status_change(
                prescription=prescription,
                to=to,
                by=request.user,
                effective=form.cleaned_data["effective"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            service_errors_onto(form, error)
        else:
            audit_record(request, patients=[patient.id], action=Action.UPDATE)
            messages.success(request, f"The prescription of {patient} is {done}.")
            return redirect(_patient_url(patient.id))
    return render(
        request,
        "staff/status_change.html",
        {
            "clinic": request.user.clinic,
            "patient": patient,
            "prescription": prescription,
            "change": change,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@clinician_required
def acknowledge(request, pk: int):
    alert = get_object_or_404(alerts_in_reach(request.user).select_related("patient"), pk=pk)
    target = back_to(request, reverse("staff-home"))
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "staff/acknowledge.html",
            {"clinic": request.user.clinic, "alert": alert, "form": form, "next": target},
            status=400,
        )
    try:
        alerts.alert_acknowledge(alert=alert, by=request.user, note=form.cleaned_data["note"])
    except alerts.AlertAlreadyAcknowledged:
        messages.info(request, "That alert had already been acknowledged.")
    else:
        audit_record(request, patients=[alert.patient_id], action=Action.UPDATE)
        messages.success(request, f"Alert for {alert.patient} acknowledged.")
    return redirect(target)


@require_http_methods(["GET", "POST"])
@clinician_required
def archive(request, pk: int):
    """The patient leaves the clinic's care (see patients.services): confirmed on its own
    page, with the reason, which the patient's page shows from then on."""
    patient = patient_in_reach(request, pk)
    form = ArchiveForm(request.POST if request.method == "POST" else None)
    if patient.archived_at is None and form.is_valid():
        try:
            patient_services.patient_archive(
                patient=patient, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.info(request, " ".join(error.messages))
        else:
            audit_record(request, patients=[patient.id], action=Action.ARCHIVE)
            messages.success(
                request, "Archived: no more reminders or alerts; the record stays readable here."
            )
        return redirect(_patient_url(patient.id))
    if patient.archived_at is not None:
        messages.info(request, "This patient is already archived.")
        return redirect(_patient_url(patient.id))
    return render(
        request,
        "staff/archive.html",
        {"clinic": request.user.clinic, "patient": patient, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@clinician_required
def restore(request, pk: int):
    """Back into care: one click, since it takes nothing away."""
    patient = patient_in_reach(request, pk)
    try:
        patient_services.patient_restore(patient=patient)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    else:
        audit_record(request, patients=[patient.id], action=Action.UPDATE)
        messages.success(request, "Back in care: reminders and alerts resume.")
    return redirect(_patient_url(patient.id))


@require_http_methods(["GET", "POST"])
@clinician_required
def edit_patient(request, pk: int):
    """Names, email, phone, zone and reminder channel, through the services that the API's
    PATCH patients/{id}/ and the reminder preferences use."""
    patient = patient_in_reach(request, pk)
    preference = getattr(patient, "reminder_preference", None)
    channel = preference.channel if preference else ReminderPreference.Channel.EMAIL
    form = PatientEditForm(
        request.POST if request.method == "POST" else None,
        patient=patient,
        webhook=bool(preference and preference.webhook_url),
        initial={
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "email": patient.email,
            "phone": patient.phone,
            "timezone": patient.timezone,
            "channel": channel,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            patient_services.patient_record_update(
                patient=patient,
                **{
                    "timezone_name" if name == "timezone" else name: form.cleaned_data[name]
                    for name in form.changed_data
                },
            )
        except ValidationError as error:
            service_errors_onto(form, error)
        else:
            audit_record(request, patients=[patient.id], action=Action.UPDATE)
            messages.success(request, f"The details of {patient} were saved.")
            return redirect(_patient_url(patient.id))
    return render(
        request,
        "staff/patient_edit.html",
        {"clinic": request.user.clinic, "patient": patient, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@clinician_required
def invite_patient(request, pk: int):
    """Emails a patient who has not activated yet a fresh code and the activation link."""
    patient = patient_in_reach(request, pk)
    try:
        patient_services.patient_invite(patient=patient)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    else:
        audit_record(request, patients=[patient.id], action=Action.UPDATE)
        messages.success(
            request,
            f"An email with a fresh activation code is on its way to {patient.email}. "
            "Codes given before no longer work.",
        )
    return redirect(_patient_url(patient.id))
