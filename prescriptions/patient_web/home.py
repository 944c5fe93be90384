"""The patient's own page at /my/ (session sign-in with email and password): how to do the
exercise, their progress, a check-in form, reminder settings, calendar and data export.

It reads through the selectors the API uses and writes through the same services."""

import uuid
from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

import prescriptions.patient_web.charts as patient_charts
import prescriptions.patient_web.day as patient_day
from clinic.audit import Action, audit_record
from patients.models import ReminderPreference
from prescriptions import adherence, checkins, extensions
from prescriptions.api.me import calendar_url
from prescriptions.charts import pain_days
from prescriptions.models import (
    CheckIn,
    CheckInCorrection,
    CheckInSlot,
    Prescription,
)
from prescriptions.patient_web.access import patient_required
from prescriptions.patient_web.forms import (
    ReminderForm,
    WebCheckInForm,
    ZoneAndPhoneForm,
)
from prescriptions.reminders import quiet_hours_cover_every_slot
from prescriptions.schedule import local_today

CHART_DAYS = 28
# The patient's latest check-ins listed on their page (of the last CHART_DAYS days).
CHECK_INS_SHOWN = 10


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
    context = home_context(request, patient, current_prescription(patient), report_of(patient))
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


def home_context(request, patient, prescription, report, **forms_given) -> dict:
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
    plan_status = prescription.current_status if prescription else None
    return {
        "patient": patient,
        "prescription": prescription,
        "plan_status": plan_status,
        # A plan still to come says when it starts, rather than reading "active" already.
        "plan_starts": prescription.start_date
        if plan_status not in (None, Prescription.Status.ENDED)
        and prescription.start_date > local_today(patient.zone)
        else None,
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


def report_of(patient):
    today = local_today(patient.zone)
    start = today - timedelta(days=CHART_DAYS - 1)
    return adherence.adherence_report(patient=patient, start=start, end=today)
