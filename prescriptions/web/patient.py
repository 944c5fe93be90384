"""One patient's page: charts over a date range, the prescription and its history,
check-ins, alerts and reminders; a clinician's actions sit beside what they act on."""

from django.db.models import Prefetch
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic.audit import Action, audit_record
from clinic.models import AuditEntry
from clinic.web import team_member_required
from patients.services import patient_pages_url
from prescriptions import adherence
from prescriptions.current_prescriptions import current_of
from prescriptions.models import (
    Alert,
    CheckIn,
    RedFlag,
    Reminder,
    StatusChange,
)
from prescriptions.schedule import local_today
from prescriptions.web import charts
from prescriptions.web.access import patient_in_reach
from prescriptions.web.actions import ENROLLED_CODE
from prescriptions.web.forms import AcknowledgeForm, RangeForm, StatusChangeForm

CHECK_INS_SHOWN = 20
ALERTS_SHOWN = 30
REMINDERS_SHOWN = 30
AUDIT_SHOWN = 30
RED_FLAG_LABELS = dict(RedFlag.choices)


def _enrolled_code(request, patient_id: int) -> dict | None:
    """The code of a patient just enrolled, taken from the session: shown once."""
    enrolled = request.session.get(ENROLLED_CODE)
    if not enrolled or enrolled.get("patient") != patient_id:
        return None
    del request.session[ENROLLED_CODE]
    return {**enrolled, "expires_at": parse_datetime(enrolled["expires_at"])}


# Never cached: it may show a new patient's activation code, and it holds clinical data.
@never_cache
@require_GET
@team_member_required
def patient_page(request, pk: int):
    patient = patient_in_reach(request, pk)
    audit_record(request, patients=[patient.id], action=Action.READ)
    tz = patient.zone
    today = local_today(tz)
    form = RangeForm(request.GET, today=today)
    form.is_valid()
    start, end = form.cleaned_data.get("range") or adherence.default_range(today)

    report = adherence.adherence_report(patient=patient, start=start, end=end)
    days = [d["date"] for d in report["by_day"]]
    in_range = list(
        CheckIn.objects.filter(patient=patient, local_date__range=(start, end)).order_by(
            "-performed_at", "-id"
        )
    )
    pain_days = charts.pain_days(days, in_range)
    prescriptions = list(
        # Through the patient, so each prescription knows its patient's zone.
        patient.prescriptions.select_related("clinician", "protocol")
        .prefetch_related(
            "slots",
            Prefetch(
                "status_changes",
                queryset=StatusChange.objects.select_related("recorded_by").order_by(
                    "-effective_at", "-id"
                ),
            ),
        )
        .order_by("-start_date", "-id")
    )
    current = current_of(prescriptions, today)
    alerts = list(
        Alert.objects.filter(patient=patient)
        .select_related("acknowledged_by")
        .order_by("acknowledged_at", "-created_at")[:ALERTS_SHOWN]
    )
    reminders = list(
        Reminder.objects.filter(prescription__patient=patient).order_by("-fire_at", "-id")[
            :REMINDERS_SHOWN
        ]
    )
    for checkin in in_range[:CHECK_INS_SHOWN]:
        checkin.flag_labels = [RED_FLAG_LABELS.get(f, f) for f in checkin.red_flags]
    preference = getattr(patient, "reminder_preference", None)
    audit = list(
        AuditEntry.objects.filter(patient_id=patient.id)
        .select_related("actor")
        .order_by("-at", "-id")[:AUDIT_SHOWN]
    )
    return render(
        request,
        "staff/patient.html",
        {
            "clinic": patient.clinic,  # the caller's, since the patient is in reach
            "patient": patient,
            "tz": tz,
            "today": today,
            "form": form,
            "start": start,
            "end": end,
            "report": report,
            "adherence_chart": charts.adherence_chart(report["by_day"]),
            "pain_chart": charts.pain_chart(
                pain_days, report["pain"]["baseline"], adherence.MEANINGFUL_PAIN_CHANGE
            ),
            "night_chart": charts.night_chart(pain_days),
            "by_day": report["by_day"],
            "pain_days": pain_days,
            "night_total": sum(d["night"] for d in pain_days),
            "check_ins": in_range[:CHECK_INS_SHOWN],
            "check_ins_total": len(in_range),
            "prescriptions": prescriptions,
            "current": current,
            "status_form": StatusChangeForm(tz=tz),
            "ack_form": AcknowledgeForm(),
            "alerts": alerts,
            "open_alerts": [a for a in alerts if a.acknowledged_at is None],
            "reminders": reminders,
            "preference": preference,
            "audit": audit,
            "can_act": request.user.is_clinician,
            "enrolled": _enrolled_code(request, patient.id),
            "patient_pages": patient_pages_url(),
            "activate_url": f"{patient_pages_url()}activate/",
            "nav": "patients",
        },
        status=400 if form.errors else 200,
    )
