"""Pages opened from a signed link, without signing in."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

import prescriptions.patient_web.day as patient_day
from clinic.audit import Action, audit_record
from patients.models import Patient
from patients.services import reminders_stop
from prescriptions import alerts, checkins, reminders
from prescriptions.models import CheckIn, Reminder
from prescriptions.patient_web.forms import CheckInForm


@require_GET
def calendar(request, token: str):
    found = reminders.calendar_patient_version(token)
    if found is None:
        raise Http404
    patient_id, version = found
    patient = Patient.objects.filter(id=patient_id, calendar_feed_version=version).first()
    if patient is None:
        raise Http404
    audit_record(request, patients=[patient.id], action=Action.READ)
    response = HttpResponse(
        reminders.calendar_feed(patient), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="knee-rocks.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response


# --- A session's check-in, from the reminder's link ---------------------------------------


def _link_reminder(token: str) -> Reminder | None:
    reminder_id = reminders.checkin_reminder_id(token)
    if reminder_id is None:
        return None
    return (
        Reminder.objects.select_related("prescription__patient", "prescription__protocol")
        .filter(id=reminder_id)
        .first()
    )


def _done(request, reminder: Reminder, checkin: CheckIn, *, just_now: bool):
    patient = reminder.prescription.patient
    context = {
        "reminder": reminder,
        "patient": patient,
        "checkin": checkin,
        "just_now": just_now,
        "emergency": alerts.is_emergency(checkin.red_flags),
    }
    if checkin.red_flags:
        return render(request, "patient/stop.html", context)
    now = timezone.now()
    # What else today asks of them, so that a spent link still says what comes next.
    context["still_due"] = patient_day.still_due(patient_day.sessions_now(patient, now), now)
    return render(request, "patient/checkin_done.html", context)


def _unusable(request, reason: str, reminder: Reminder | None = None):
    # 200 rather than 4xx: a patient's phone shows it as a page, and nothing was wrong
    # with what they did.
    return render(request, "patient/link_unusable.html", {"reason": reason, "reminder": reminder})


# The signed link is the credential, so a cross-site form could do nothing its holder
# cannot; a CSRF refusal, though, would throw away what the patient entered (a phone's
# in-app browser that drops cookies).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def checkin(request, token: str):
    reminder = _link_reminder(token)
    if reminder is None:
        return _unusable(request, "invalid")
    audit_record(request, patients=[reminder.prescription.patient_id], action=Action.READ)
    done = checkins.session_checkin(reminder)
    if done is not None:
        return _done(request, reminder, done, just_now=False)
    if not checkins.session_open(reminder) or reminder.prescription.status == "ended":
        return _unusable(request, "expired", reminder)
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            recorded = checkins.checkin_record_for_session(reminder=reminder, **form.cleaned_data)
        except checkins.SessionAlreadyDone as already:
            return _done(request, reminder, already.checkin, just_now=False)
        except checkins.SessionOver:
            return _unusable(request, "expired", reminder)
        audit_record(request, patients=[recorded.patient_id], action=Action.CREATE)
        return _done(request, reminder, recorded, just_now=True)
    prescription = reminder.prescription
    return render(
        request,
        "patient/checkin.html",
        {
            "form": form,
            "reminder": reminder,
            "patient": prescription.patient,
            "heat_prep": prescription.heat_prep and reminder.slot == "bedtime",
            "action": request.path,
        },
        status=400 if form.errors else 200,
    )


# --- Stopping reminders from an email ------------------------------------------------------


# The signed link is the credential, and RFC 8058's one-click POST comes from the mail
# provider without any cookie or form token.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def stop_reminders(request, token: str):
    """GET asks (mail scanners open links, and must not stop anything); POST stops, from
    the page's button or the mail app's own unsubscribe (List-Unsubscribe-Post)."""
    reminder_id = reminders.stop_reminder_id(token)
    reminder = (
        Reminder.objects.select_related("prescription__patient").filter(id=reminder_id).first()
        if reminder_id is not None
        else None
    )
    if reminder is None:
        return _unusable(request, "invalid")
    patient = reminder.prescription.patient
    if request.method == "POST":
        reminders_stop(patient=patient)
        return render(request, "patient/reminders_stopped.html", {"patient": patient})
    return render(request, "patient/stop_reminders.html", {"patient": patient})
