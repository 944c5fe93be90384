"""One patient's page: charts over a date range, the prescription and its history,
check-ins, alerts and reminders; a clinician's actions sit beside what they act on."""

import re
from datetime import date, timedelta

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic.audit import Action, audit_record
from clinic.models import AuditEntry
from clinic.web import team_member_required
from patients.services import patient_pages_url
from prescriptions import adherence, charts, extensions, history
from prescriptions.models import Alert, CheckIn, Prescription, RedFlag, Reminder
from prescriptions.schedule import local_date_of, local_today
from prescriptions.staff_web.access import patient_in_reach
from prescriptions.staff_web.actions import ENROLLED_CODE
from prescriptions.staff_web.forms import AcknowledgeForm, RangeForm, StatusChangeForm

CHECK_INS_SHOWN = 20
ALERTS_SHOWN = 30
REMINDERS_SHOWN = 30
# The card shows the latest few; the audit page (audit_page) has them all, by kind.
AUDIT_SHOWN = 8
AUDIT_PAGE_SIZE = 50
RED_FLAG_LABELS = dict(RedFlag.choices)


def ended_on(prescription) -> date | None:
    """The last date of an ended prescription: its end date, or the local date of the
    instant it was ended if that came first (None while it runs)."""
    if prescription.current_status != Prescription.Status.ENDED:
        return None
    ends = [c for c in prescription.status_changes.all() if c.status == Prescription.Status.ENDED]
    if not ends:
        return prescription.end_date
    # Ended at 00:00 on the 21st: the 20th was its last day.
    ended = local_date_of(ends[-1].effective_at - timedelta(microseconds=1), prescription.zone)
    ended = max(ended, prescription.start_date)
    return min(prescription.end_date, ended) if prescription.end_date else ended


CHANGE_WORDS = {
    "created": "Prescribed",
    "plan": "Plan changed",
    "paused": "Paused",
    "resumed": "Resumed",
    "ended": "Ended",
}
PLAN_FIELD_WORDS = {
    "slots": "Times",
    "start_date": "First day",
    "end_date": "Last day",
    "heat_prep": "Heat first",
    "as_needed": "Night sessions",
    "notes": "Notes",
}


def _plan_value(field: str, value) -> str:
    if field == "slots":
        return ", ".join(f"{s['kind']} {s['time']}" for s in value) or "none"
    if field in ("start_date", "end_date"):
        return date.fromisoformat(value).strftime("%b %-d, %Y") if value else "open"
    if field == "heat_prep":
        return "yes" if value else "no"
    if field == "as_needed":
        return "invited" if value else "not invited"
    return value or "none"


def history_words(entry: dict) -> dict:
    """A history entry as the page reads it: what happened and, for a plan change, each
    field before → after in words."""
    fields = entry["fields"] or {}
    return {
        **entry,
        "words": CHANGE_WORDS[entry["change"]],
        "changes": [
            (PLAN_FIELD_WORDS.get(f, f), _plan_value(f, before), _plan_value(f, after))
            for f, (before, after) in fields.items()
        ],
        # A change recorded for an earlier instant (a pause from last night) says so.
        "back_dated": entry["change"] != "created"
        and entry["effective_at"] is not None
        and entry["at"] - entry["effective_at"] > timedelta(minutes=1),
    }


def alert_words(alert: Alert, prescription) -> None:
    """What the page says of an alert beyond its stored details: a red flag's signs in
    words (alerts raised before `signs` was stored have only the codes), and whether the
    prescription is paused now, since a resume does not rewrite the alert."""
    alert.signs = []
    alert.paused_now = False
    if alert.kind != Alert.Kind.RED_FLAG:
        return
    codes = alert.details.get("red_flags", [])
    alert.signs = alert.details.get("signs") or [RED_FLAG_LABELS.get(f, f) for f in codes]
    alert.paused_now = (
        prescription is not None and prescription.current_status == Prescription.Status.PAUSED
    )


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
        adherence.with_current(
            # Through the patient, so each prescription knows its patient's zone.
            patient.prescriptions.select_related("clinician", "protocol")
            .prefetch_related("slots", *history.history_prefetch())
            .order_by("-start_date", "-id"),
            today,
        )
    )
    for rx in prescriptions:
        rx.history = [history_words(e) for e in history.prescription_history(rx)]
        rx.ended_on = ended_on(rx)
    current = next((rx for rx in prescriptions if rx.is_current), None)
    if current is not None:
        # Still to come: it says when it starts, as the clinic table does, not "Active".
        current.starts_later = (
            current.current_status != Prescription.Status.ENDED and current.start_date > today
        )
    alerts = list(
        Alert.objects.filter(patient=patient)
        .select_related("acknowledged_by")
        .order_by("acknowledged_at", "-created_at")[:ALERTS_SHOWN]
    )
    by_id = {rx.id: rx for rx in prescriptions}
    for alert in alerts:
        alert_words(alert, by_id.get(alert.prescription_id))
    reminders = list(
        Reminder.objects.filter(prescription__patient=patient).order_by("-fire_at", "-id")[
            :REMINDERS_SHOWN
        ]
    )
    for checkin in in_range[:CHECK_INS_SHOWN]:
        checkin.patient = patient  # its zone falls back to the patient's, read here once
        checkin.flag_labels = [RED_FLAG_LABELS.get(f, f) for f in checkin.red_flags]
    preference = getattr(patient, "reminder_preference", None)
    trail = AuditEntry.objects.filter(patient_id=patient.id)
    audit = list(trail.select_related("actor").order_by("-at", "-id")[:AUDIT_SHOWN])
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
            "range_label": charts.range_label(start, end),
            "report": report,
            "adherence_chart": charts.adherence_chart(report["by_day"]),
            "pain_chart": charts.pain_chart(
                pain_days, report["pain"]["baseline"], adherence.MEANINGFUL_PAIN_CHANGE
            ),
            "night_chart": charts.night_chart(pain_days),
            # Cards other apps add (outcomes: the questionnaires' chart), each its own
            # template; see prescriptions.extensions.
            "sections": extensions.patient_sections(patient),
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
            "audit_total": trail.count(),
            "can_act": request.user.is_clinician,
            "enrolled": _enrolled_code(request, patient.id),
            "patient_pages": patient_pages_url(),
            "activate_url": f"{patient_pages_url()}activate/",
            "nav": "patients",
        },
        status=400 if form.errors else 200,
    )


# Reads by pages and API routes that show many patients at once: every patient on a
# clinic list is recorded as read (the trail stays complete), and these are filtered apart
# from a person opening this one record.
LIST_PATHS = [
    "/staff/",
    "/staff/deliveries/",
    "/api/v1/patients/",
    "/api/v1/prescriptions/",
    "/api/v1/check-ins/",
    "/api/v1/alerts/",
    "/api/v1/adherence/",
    "/api/v1/reminders/",
]
# The admin's change lists: /admin/<app>/<model>/.
ADMIN_LIST = r"^/admin/[a-z_]+/[a-z_]+/$"
IN_A_LIST = Q(action=Action.READ) & (Q(path__in=LIST_PATHS) | Q(path__regex=ADMIN_LIST))
AUDIT_KINDS = {
    "opened": ("Opened the record", Q(action=Action.READ) & ~IN_A_LIST),
    "listed": ("A list showed them", IN_A_LIST),
    "exported": ("Exported", Q(action=Action.EXPORT)),
    "changed": (
        "Changed",
        Q(action__in=[Action.CREATE, Action.UPDATE, Action.ARCHIVE]),
    ),
}


def audit_kind(entry: AuditEntry) -> str:
    """The kind (a key of AUDIT_KINDS) of one entry, as the filters above decide it."""
    if entry.action == Action.EXPORT:
        return "exported"
    if entry.action != Action.READ:
        return "changed"
    listed = entry.path in LIST_PATHS or re.match(ADMIN_LIST, entry.path)
    return "listed" if listed else "opened"


@never_cache
@require_GET
@team_member_required
def audit_page(request, pk: int):
    """Who read or changed this patient's data, newest first, by kind, a page at a time.
    Reading the trail is not itself recorded: it holds no clinical data."""
    patient = patient_in_reach(request, pk)
    kind = request.GET.get("kind", "")
    if kind not in AUDIT_KINDS:
        kind = ""
    trail = AuditEntry.objects.filter(patient_id=patient.id)
    if kind:
        trail = trail.filter(AUDIT_KINDS[kind][1])
    page = Paginator(trail.select_related("actor").order_by("-at", "-id"), AUDIT_PAGE_SIZE)
    page = page.get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.kind_label = AUDIT_KINDS[audit_kind(entry)][0]
    return render(
        request,
        "staff/patient_audit.html",
        {
            "clinic": patient.clinic,
            "patient": patient,
            "tz": patient.zone,
            "page": page,
            "kind": kind,
            "kinds": [(key, label) for key, (label, _) in AUDIT_KINDS.items()],
            "nav": "patients",
        },
    )
