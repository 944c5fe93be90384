"""The clinic team's web page: adherence at a glance, the CSV export, open alerts."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic import web as auth
from clinic.audit import Action, audit_record
from prescriptions import adherence, alerts
from prescriptions.api.adherence import ClinicRowSerializer, as_csv, sort_rows
from prescriptions.models import Alert, Prescription, StatusChange, status_read
from prescriptions.schedule import local_date_of

OPEN_ALERTS_SHOWN = 50


def clinic_report(clinic):
    """Every patient's row over their last 28 local days, as their own report has it (the
    dates shown are the clinic's); who needs attention first."""
    start, end = adherence.default_range(adherence.local_today(ZoneInfo(clinic.timezone)))
    patients = list(adherence.clinic_patients(clinic.id).order_by("last_name", "first_name"))
    rows = adherence.clinic_rows(
        patients, start=None, end=None, now=timezone.now(), clinic_id=clinic.id
    )
    return start, end, sort_rows(rows, "adherence_pct", descending=False)


def prescription_states(clinic_id: int, now) -> dict[int, dict]:
    """Each patient's current prescription state, by patient id, in one query.

    The current prescription is the newest one still running, else the newest that ended:
    a patient given a new course after an old one shows the new one.
    """
    last_pause = StatusChange.objects.filter(
        prescription=OuterRef("pk"), status=Prescription.Status.PAUSED
    ).order_by("-effective_at", "-id")
    prescriptions = (
        Prescription.objects.filter(patient__clinic_id=clinic_id)
        .order_by("-start_date", "-id")
        .values("patient_id", "status", "start_date", "end_date", "patient__timezone")
        .annotate(
            paused_at=Subquery(last_pause.values("effective_at")[:1]),
            pause_reason=Subquery(last_pause.values("reason")[:1]),
        )
    )
    states: dict[int, dict] = {}
    for rx in prescriptions:
        state = prescription_state(rx, now)
        current = states.get(rx["patient_id"])
        if current is None or (current["status"] == "ended" and state["status"] != "ended"):
            states[rx["patient_id"]] = state
    return states


def prescription_state(rx: dict, now) -> dict:
    tz = ZoneInfo(rx["patient__timezone"])
    today = adherence.local_today(tz, now)
    status = status_read(rx["status"], rx["end_date"], today)
    if status == Prescription.Status.ENDED:
        return {"status": "ended"}
    if status == Prescription.Status.PAUSED:
        paused_at = rx["paused_at"]
        return {
            "status": "paused",
            # The patient's own date, like every day of their adherence row.
            "since": local_date_of(paused_at, tz) if paused_at else None,
            "reason": rx["pause_reason"],
        }
    if rx["start_date"] > today:
        return {"status": "upcoming", "since": rx["start_date"]}
    return {"status": "active"}


def band(pct) -> str:
    if pct is None:
        return ""
    return "good" if pct >= 80 else "fair" if pct >= 50 else "poor"


@require_GET
@auth.team_member_required
def home(request):
    clinic = request.user.clinic
    start, end, rows = clinic_report(clinic)
    states = prescription_states(clinic.id, timezone.now())
    audit_record(request, patients=[row["patient"] for row in rows], action=Action.READ)
    for row in rows:
        row["band"] = band(row["adherence_pct"])
        row["prescription"] = states.get(row["patient"], {"status": "none"})
    open_alerts = (
        Alert.objects.filter(patient__clinic_id=clinic.id, acknowledged_at__isnull=True)
        .select_related("patient")
        .order_by("-created_at", "-id")[:OPEN_ALERTS_SHOWN]
    )
    return render(
        request,
        "staff/home.html",
        {
            "clinic": clinic,
            "start": start,
            "end": end,
            "rows": rows,
            "alerts": open_alerts,
            "can_acknowledge": request.user.is_clinician,
        },
    )


@require_GET
@auth.team_member_required
def adherence_csv(request):
    """The same rows and columns as GET /api/v1/adherence/?format=csv, for a signed-in page."""
    clinic = request.user.clinic
    start, end, rows = clinic_report(clinic)
    audit_record(request, patients=[row["patient"] for row in rows], action=Action.EXPORT)
    response = HttpResponse(
        as_csv(ClinicRowSerializer(rows, many=True).data), content_type="text/csv; charset=utf-8"
    )
    filename = f"adherence-{clinic.slug}-{start.isoformat()}-{end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@auth.team_member_required
def acknowledge(request, pk: int):
    alert = get_object_or_404(Alert, pk=pk, patient__clinic_id=request.user.clinic_id)
    if not request.user.is_clinician:
        return HttpResponseForbidden("Only clinicians acknowledge alerts.")
    audit_record(request, patients=[alert.patient_id], action=Action.UPDATE)
    try:
        alerts.alert_acknowledge(alert=alert, by=request.user)
    except alerts.AlertAlreadyAcknowledged:
        messages.info(request, "That alert had already been acknowledged.")
    else:
        messages.success(request, f"Alert for {alert.patient} acknowledged.")
    return redirect("staff-home")


urlpatterns = [
    path("", home, name="staff-home"),
    path("login/", auth.sign_in, name="staff-login"),
    path("logout/", auth.sign_out, name="staff-logout"),
    path("adherence.csv", adherence_csv, name="staff-adherence-csv"),
    path("alerts/<int:pk>/acknowledge/", acknowledge, name="staff-alert-acknowledge"),
]
