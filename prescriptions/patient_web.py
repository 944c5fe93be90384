"""The patient's own web page (session sign-in with email and password): how to do the
exercise, their progress, a check-in form, reminder settings, calendar and data export.

It reads through the selectors the API uses and writes through the same services."""

import uuid
from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.audit import Action, audit_record
from clinic.sign_ins import session_end, session_start
from clinic.web import sign_in_page
from patients.models import ReminderPreference
from patients.services import (
    calendar_feed_reset,
    patient_activate,
    patient_pages_url,
    patient_update,
    reminder_preference_update,
)
from prescriptions import (
    adherence,
    alerts,
    checkins,
    extensions,
    patient_charts,
    patient_day,
)
from prescriptions.api.me import calendar_url, export_response
from prescriptions.charts import pain_days
from prescriptions.models import (
    CheckIn,
    CheckInCorrection,
    CheckInSlot,
    IdempotencyRecord,
    Prescription,
)
from prescriptions.patient_forms import (
    ActivateForm,
    ActivateThrottle,
    CheckInCorrectionForm,
    PatientSignInForm,
    ReminderForm,
    WebCheckInForm,
    ZoneAndPhoneForm,
)
from prescriptions.reminders import quiet_hours_cover_every_slot
from prescriptions.schedule import local_today
from prescriptions.selectors import checkins_in_reach

CHART_DAYS = 28
# The patient's latest check-ins listed on their page (of the last CHART_DAYS days).
CHECK_INS_SHOWN = 10


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


def current_prescription(patient) -> Prescription | None:
    """The patient's current prescription (see `adherence.current_of`)."""
    # Through the patient, so each prescription knows its patient's zone.
    prescriptions = patient.prescriptions.select_related("protocol").prefetch_related("slots")
    return adherence.current_of(prescriptions, local_today(patient.zone))


def chart(by_day: list[dict]) -> dict:
    """Each day as a column of squares, one per expected session: filled when done, dashed
    when missed, so the chart reads without colour. Extra sessions are counted in the text."""
    cell, gap, top = 14, 3, 4
    most = max([day["expected"] for day in by_day] + [1])
    height = top + most * (cell + gap) + 18
    columns = []
    for index, day in enumerate(by_day):
        x = index * (cell + gap)
        squares = [
            {
                "x": x,
                "y": top + (most - 1 - n) * (cell + gap),
                "kind": "done-bar" if n < day["completed"] else "missed-bar",
            }
            for n in range(day["expected"])
        ]
        label = day["date"].strftime("%-d %b") if index % 7 == 0 else ""
        columns.append(
            {"x": x, "squares": squares, "label": label, "day": day, "label_y": height - 4}
        )
    return {"width": len(by_day) * (cell + gap), "height": height, "cell": cell, "columns": columns}


@require_GET
@patient_required
def home(request, patient):
    audit_record(request, patients=[patient.id], action=Action.READ)
    context = _home_context(request, patient, current_prescription(patient), _report(patient))
    return render(request, "patient/home.html", context)


def _reminder_form(patient) -> ReminderForm:
    preference = ReminderPreference.objects.filter(patient=patient).first()
    initial = {"channel": ReminderPreference.Channel.EMAIL}
    if preference is not None:
        initial = {
            "channel": preference.channel,
            "quiet_start": preference.quiet_start,
            "quiet_end": preference.quiet_end,
        }
    return ReminderForm(initial=initial, patient=patient)


def _quiet_hours_swallow_all(patient, prescription) -> bool:
    """Whether the saved quiet hours leave no session a reminder (a warning, not an error:
    a patient may want a break from reminders)."""
    preference = ReminderPreference.objects.filter(patient=patient).first()
    if preference is None or prescription is None:
        return False
    return quiet_hours_cover_every_slot(
        preference.quiet_start,
        preference.quiet_end,
        [(slot.kind, slot.time) for slot in prescription.slots.all()],
        prescription.heat_minutes,
    )


def _home_context(request, patient, prescription, report, **forms_given) -> dict:
    """The page's context; a form given (with its errors) replaces the blank one."""
    now = timezone.now()
    checkin_form = forms_given.get("checkin_form") or WebCheckInForm(
        initial={"form_id": uuid.uuid4(), "slot": _default_slot(patient, now)}
    )
    days = [day["date"] for day in report["by_day"]]
    # The last CHART_DAYS days' check-ins, newest first: the pain trend and the list.
    recent = list(
        CheckIn.objects.filter(patient=patient, local_date__range=(days[0], days[-1])).order_by(
            "-performed_at", "-id"
        )
    )
    trend_days = pain_days(days, recent)
    shown = recent[:CHECK_INS_SHOWN]
    zones = patient_day.zones_done_in(shown)
    corrected = set(
        CheckInCorrection.objects.filter(check_in_id__in=[c.id for c in shown]).values_list(
            "check_in_id", flat=True
        )
    )
    for checkin in shown:
        checkin.zone_done_in = zones[checkin.id]
        checkin.correctable = checkins.correctable(checkin, now)
        checkin.corrected = checkin.id in corrected
    return {
        "patient": patient,
        "prescription": prescription,
        "plan_status": prescription.current_status if prescription else None,
        "protocol": prescription.protocol if prescription else None,
        "report": report,
        "chart": chart(report["by_day"]),
        "pain_trend": patient_charts.pain_trend(trend_days),
        "pain_days": [day for day in trend_days if day["before"] is not None],
        "check_ins": shown,
        "check_ins_total": len(recent),
        "checkin_form": checkin_form,
        "reminder_form": forms_given.get("reminder_form") or _reminder_form(patient),
        "quiet_hours_swallow_all": _quiet_hours_swallow_all(patient, prescription),
        "zone_form": forms_given.get("zone_form")
        or ZoneAndPhoneForm(
            initial={"timezone": patient.timezone, "phone": patient.phone}, patient=patient
        ),
        "calendar_url": calendar_url(request, patient),
        # Cards other apps add (outcomes: the questionnaires due, in plain words).
        "panels": extensions.home_panels(request, patient),
    }


def _default_slot(patient, now) -> str:
    """The session that is next due on the patient's plan, else the likely one by the hour."""
    return patient_day.next_due(patient_day.sessions_now(patient, now), now) or _likely_slot(
        patient, now
    )


def _likely_slot(patient, now) -> str:
    hour = now.astimezone(patient.zone).hour
    if 4 <= hour < 12:
        return CheckInSlot.MORNING
    if hour >= 18:
        return CheckInSlot.BEDTIME
    return CheckInSlot.OTHER


@require_POST
@patient_required
def check_in(request, patient):
    form = WebCheckInForm(request.POST)
    prescription = current_prescription(patient)
    if prescription is None or prescription.current_status == Prescription.Status.ENDED:
        messages.info(request, "There is no exercise plan to check in to right now.")
        return redirect("patient-home")
    if not form.is_valid():
        report = _report(patient)
        context = _home_context(request, patient, prescription, report, checkin_form=form)
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


def _report(patient):
    today = local_today(patient.zone)
    start = today - timedelta(days=CHART_DAYS - 1)
    return adherence.adherence_report(patient=patient, start=start, end=today)


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
        context = _home_context(
            request, patient, current_prescription(patient), _report(patient), **{form_name: form}
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


urlpatterns = [
    path("", home, name="patient-home"),
    path("login/", sign_in, name="patient-login"),
    path("logout/", sign_out, name="patient-logout"),
    path("activate/", activate, name="patient-activate"),
    path("check-in/", check_in, name="patient-checkin"),
    path("check-ins/<int:pk>/", checkin_correct, name="patient-checkin-correct"),
    path("check-ins/<int:pk>/withdraw/", checkin_withdraw, name="patient-checkin-withdraw"),
    path("calendar/reset/", calendar_reset, name="patient-calendar-reset"),
    path("reminders/", reminder_settings, name="patient-reminders"),
    path("zone-and-phone/", zone_and_phone, name="patient-zone-and-phone"),
    path("export.json", export, name="patient-export"),
]
