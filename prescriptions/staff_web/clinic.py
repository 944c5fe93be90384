"""The clinic table (every patient at a glance), its CSV, and the delivery problems."""

from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.audit import Action, audit_record
from clinic.web import team_member_required
from prescriptions import adherence, extensions
from prescriptions.models import Prescription, Reminder
from prescriptions.schedule import local_today
from prescriptions.selectors import open_alerts, reminders_in_reach
from prescriptions.staff_web.forms import SHOW_CHOICES, ClinicTableForm

PAGE_SIZE = 25
OPEN_ALERTS_SHOWN = 20
LOW_ADHERENCE_BELOW_PCT = 50
DELIVERY_PROBLEMS_DAYS = 30
DELIVERY_PAGE_SIZE = 50

# Columns: (label, ordering or None, sorted descending first, CSS classes). The first
# click shows the worst first where that is what a clinician looks for.
COLUMNS = [
    ("Patient", "last_name", False, ""),
    ("Prescription", None, False, "wide-only"),
    ("Last 7 days", "adherence_pct_7d", False, ""),
    ("Range", "adherence_pct", False, ""),
    ("Streak", "current_streak_days", True, "num wide-only"),
    ("Pain, first week → recent", "pain_change", True, "num wide-only"),
    ("Last check-in", "last_check_in", True, "wide-only"),
    ("Alerts", "open_alerts", True, "num"),
]


def _paused() -> Q:
    # Read now: a prescription past its end date reads ended, whatever was stored.
    paused = Prescription.objects.reading(Prescription.Status.PAUSED)
    return Q(Exists(paused.filter(patient=OuterRef("pk"))))


# The quick filters: each a condition on `adherence.clinic_patients`, built per request.
FILTERS = {
    "open_alerts": lambda: Q(open_alerts__gt=0),
    "red_flag": lambda: Q(red_flag_open=True),
    "paused": _paused,
    "not_activated": lambda: Q(user__is_active=False),
}


def band(pct) -> str:
    if pct is None:
        return ""
    return "good" if pct >= 80 else "fair" if pct >= LOW_ADHERENCE_BELOW_PCT else "poor"


def matching(patients, search: str | None):
    """The patients whose name or email holds every word of the search."""
    for term in (search or "").split():
        patients = patients.filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(email__icontains=term)
        )
    return patients


def table_view(request):
    """The rows the clinic table shows for this request's search, filter, sort and range:
    (form, rows, range) — one selector call, whatever the request asks."""
    clinic = request.user.clinic
    today = local_today(clinic.zone)
    form = ClinicTableForm(request.GET, today=today)
    form.is_valid()
    data = form.cleaned_data
    show = data.get("show") or ""
    # Archived patients are out of the clinic's care: shown only when asked for.
    patients = matching(
        adherence.clinic_patients(clinic.id, archived=show == "archived"), data.get("q")
    )
    if show in FILTERS:
        patients = patients.filter(FILTERS[show]())
    chosen = data.get("range") if data.get("chosen") else None
    start, end = data.get("range") or adherence.default_range(today)
    rows = adherence.clinic_adherence(
        clinic_id=clinic.id,
        patients=patients,
        start=chosen[0] if chosen else None,
        end=chosen[1] if chosen else None,
        ordering=data.get("sort") or "last_name",
        below_pct=LOW_ADHERENCE_BELOW_PCT if show == "low_adherence" else None,
    )
    return form, rows, (start, end, chosen is not None)


def _query(request, **changes) -> str:
    """This page's query string with some parameters changed (and back to page 1)."""
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return f"?{params.urlencode()}"


@require_GET
@team_member_required
def home(request):
    clinic = request.user.clinic
    form, rows, (start, end, chosen) = table_view(request)
    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(form.cleaned_data.get("page") or 1)
    shown = list(page.object_list)
    audit_record(request, patients=[r["patient"] for r in shown], action=Action.READ)
    states = adherence.prescription_states([r["patient"] for r in shown], timezone.now())
    # Other apps' columns (outcomes: the latest PSFS change) are read for the page's rows
    # alone, one query each, beside the stored rows rather than inside them: the page's
    # count stays constant, and the stored-row machinery knows nothing of them.
    cells = extensions.clinic_cells([r["patient"] for r in shown])
    for row in shown:
        row["band"] = band(row["adherence_pct"])
        row["band_7d"] = band(row["adherence_pct_7d"])
        row["prescription"] = states.get(row["patient"], {"status": "none"})
        row["cells"] = cells[row["patient"]]
    sort = form.cleaned_data.get("sort") or "last_name"
    columns = []
    for label, ordering, worst_first, classes in COLUMNS:
        if ordering is None:
            columns.append({"label": label, "url": "", "sort": "", "classes": classes})
            continue
        current = sort.removeprefix("-") == ordering
        descending = sort.startswith("-")
        if current:
            next_sort = ordering if descending else f"-{ordering}"
        else:
            next_sort = f"-{ordering}" if worst_first else ordering
        columns.append(
            {
                "label": label,
                "url": _query(request, sort=next_sort),
                "sort": ("descending" if descending else "ascending") if current else "",
                "classes": classes,
            }
        )
    # Before the alerts, not sortable: they are not columns of the stored rows.
    columns[-1:-1] = [
        {"label": c.label, "url": "", "sort": "", "classes": c.classes}
        for c in extensions.registry.clinic_columns
    ]
    everyone = adherence.clinic_patients(clinic.id)
    archived = adherence.clinic_patients(clinic.id, archived=True)
    show = form.cleaned_data.get("show") or ""
    counts = {value: everyone.filter(condition()).count() for value, condition in FILTERS.items()}
    counts[""] = everyone.count()
    counts["archived"] = archived.count()
    # Over the dates the table shows, as the filter reads them: two queries, however many.
    counts["low_adherence"] = len(
        adherence.clinic_adherence(
            clinic_id=clinic.id,
            patients=everyone,
            start=start if chosen else None,
            end=end if chosen else None,
            below_pct=LOW_ADHERENCE_BELOW_PCT,
        )
    )
    chips = [
        {
            "value": value,
            "label": label,
            "url": _query(request, show=value),
            "current": show == value,
            "count": counts.get(value),
        }
        for value, label in SHOW_CHOICES
    ]
    search = form.cleaned_data.get("q")
    # Archived patients are left out unless asked for: a search that finds some says so.
    archived_found = matching(archived, search).count() if search and show != "archived" else 0
    alerts = open_alerts(request.user)[:OPEN_ALERTS_SHOWN]
    return render(
        request,
        "staff/home.html",
        {
            "clinic": clinic,
            "form": form,
            "page": page,
            "rows": shown,
            "columns": columns,
            "chips": chips,
            "archived_found": archived_found,
            "archived_url": _query(request, show="archived"),
            "start": start,
            "end": end,
            "chosen_range": chosen,
            "alerts": alerts,
            "sections": extensions.clinic_sections(clinic.id),
            "notices": extensions.clinic_notices(clinic.id),
            "delivery_problems": failed_reminders(request.user).count(),
            "csv_url": reverse("staff-adherence-csv") + _query(request),
            "prev_url": _query(request, page=page.previous_page_number())
            if page.has_previous()
            else "",
            "next_url": _query(request, page=page.next_page_number()) if page.has_next() else "",
            "nav": "patients",
        },
        status=400 if form.errors else 200,
    )


@require_GET
@team_member_required
def adherence_csv(request):
    """Every row of the view the table shows (same search, filter, sort and range), with
    the columns of GET /api/v1/adherence/?format=csv. A filter it cannot read is a 400
    naming the field, as in the API, never a file of some other view."""
    clinic = request.user.clinic
    form, rows, (start, end, _) = table_view(request)
    if form.errors:
        return JsonResponse(
            {field: list(errors) for field, errors in form.errors.items()}, status=400
        )
    audit_record(request, patients=rows.patient_ids(), action=Action.EXPORT)
    # Opened in a spreadsheet: the byte order mark tells it the file is UTF-8.
    return adherence.csv_response(rows, clinic, start, end, bom=True)


def failed_reminders(user):
    since = timezone.now() - timedelta(days=DELIVERY_PROBLEMS_DAYS)
    return reminders_in_reach(user).filter(status=Reminder.Status.FAILED, fire_at__gte=since)


@require_GET
@team_member_required
def deliveries(request):
    """Reminders that could not be delivered, newest first, with what went wrong and the
    contact details to check (a wrong phone number, a dead webhook)."""
    clinic = request.user.clinic
    failed = failed_reminders(request.user).select_related(
        "prescription__patient__reminder_preference"
    )
    page = Paginator(failed.order_by("-fire_at", "-id"), DELIVERY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    audit_record(
        request,
        patients=[r.prescription.patient_id for r in page.object_list],
        action=Action.READ,
    )
    return render(
        request,
        "staff/deliveries.html",
        {"clinic": clinic, "page": page, "days": DELIVERY_PROBLEMS_DAYS, "nav": "deliveries"},
    )
