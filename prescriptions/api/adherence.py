"""Adherence reports: one patient's (`patients/{id}/adherence/`) and the clinic's."""

import csv
import io
from zoneinfo import ZoneInfo

from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.validation import LocalDateRangeQuery
from clinic.audit import Action, audit_record
from clinic.pagination import PageNumberPagination
from clinic.permissions import CLINIC_TEAM, EVERYONE, RolePermission, in_reach
from patients.api.views import ARCHIVED_PARAMETER, archived_filter
from patients.models import Patient
from prescriptions import adherence
from prescriptions.models import Prescription

# --- Input ------------------------------------------------------------------------------


class RangeSerializer(LocalDateRangeQuery):
    """`from` and `to` local dates, both optional: the default is the 28 days up to today."""

    def validate(self, attrs):
        today = self.context["today"]
        end = attrs.get("to")
        start = attrs.get("from")
        if end is None:
            end = max(today, start) if start else today
        if start is None:
            start = adherence.default_range(end)[0]
        if start > end:
            raise serializers.ValidationError({"from": ["`from` must not be after `to`."]})
        if (end - start).days + 1 > adherence.MAX_RANGE_DAYS:
            # Blame the end the caller chose, `to` when they chose both.
            field = "to" if "to" in attrs or "from" not in attrs else "from"
            raise serializers.ValidationError(
                {field: [f"The range may cover at most {adherence.MAX_RANGE_DAYS} days."]}
            )
        return {"start": start, "end": end}


def date_range(request, tz: ZoneInfo):
    serializer = RangeSerializer(
        data=request.query_params, context={"today": adherence.local_today(tz)}
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["start"], serializer.validated_data["end"]


RANGE_PARAMETERS = [
    OpenApiParameter("from", str, description="First local date, YYYY-MM-DD"),
    OpenApiParameter("to", str, description="Last local date, YYYY-MM-DD (default today)"),
]

# --- Output -----------------------------------------------------------------------------


def pct_field():
    return serializers.FloatField(allow_null=True)


class PainSerializer(serializers.Serializer):
    baseline = pct_field()
    recent = pct_field()
    change = pct_field()
    meaningful = serializers.BooleanField()


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    expected = serializers.IntegerField()
    completed = serializers.IntegerField()
    extra = serializers.IntegerField()
    pain_before_mean = pct_field()


class ReportSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    expected_sessions = serializers.IntegerField()
    completed_sessions = serializers.IntegerField()
    adherence_pct = pct_field()
    active_days = serializers.IntegerField()
    days_with_session = serializers.IntegerField()
    current_streak_days = serializers.IntegerField()
    extra_sessions = serializers.IntegerField()
    night_sessions = serializers.IntegerField()
    pain = PainSerializer()

    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword, so these two cannot be declared as attributes.
        dates = {"from": serializers.DateField(), "to": serializers.DateField()}
        return {"patient": fields.pop("patient"), **dates, **fields}


class PatientReportSerializer(ReportSerializer):
    by_day = DaySerializer(many=True)


class ClinicRowSerializer(ReportSerializer):
    prescription_status = serializers.ChoiceField(
        choices=Prescription.Status.choices,
        allow_null=True,
        help_text="What the patient's current prescription reads now (null: never prescribed).",
    )
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    last_check_in = serializers.DateTimeField(allow_null=True)
    open_alerts = serializers.IntegerField()


class ClinicPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ClinicRowSerializer(many=True)


# --- Views ------------------------------------------------------------------------------


class PatientAdherenceView(APIView):
    """One patient's adherence and pain over a range of their local dates."""

    permission_classes = [RolePermission]
    read_roles = EVERYONE

    @extend_schema(parameters=RANGE_PARAMETERS, responses=PatientReportSerializer)
    def get(self, request, pk: int):
        patient = get_object_or_404(in_reach(Patient.objects.all(), request.user, via=""), pk=pk)
        start, end = date_range(request, patient.zone)
        audit_record(request, patients=[patient.id], action=Action.READ)
        report = adherence.adherence_report(patient=patient, start=start, end=end)
        return Response(PatientReportSerializer(report).data)


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


CSV_COLUMNS = [
    "patient",
    "first_name",
    "last_name",
    "from",
    "to",
    "expected_sessions",
    "completed_sessions",
    "adherence_pct",
    "active_days",
    "days_with_session",
    "current_streak_days",
    "extra_sessions",
    "night_sessions",
    "pain_baseline",
    "pain_recent",
    "pain_change",
    "pain_meaningful",
    "last_check_in",
    "open_alerts",
    "prescription_status",
]

# Orderings the database can do before anything is computed, so a page computes only its
# own patients; the others need every row of the clinic computed first.
SQL_ORDERINGS = {
    "last_name": ("last_name", "first_name", "id"),
    "patient": ("id",),
    "last_check_in": ("last_check_in",),
    "open_alerts": ("open_alerts",),
}
COMPUTED_ORDERINGS = {
    "adherence_pct",
    "current_streak_days",
    "expected_sessions",
    "completed_sessions",
    "active_days",
    "days_with_session",
    "extra_sessions",
    "night_sessions",
}


class ClinicAdherenceView(APIView):
    """Every patient of the caller's clinic, one report row each, sortable and exportable."""

    permission_classes = [RolePermission]
    read_roles = CLINIC_TEAM
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors stay JSON even when the caller asked for CSV.
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), CSVRenderer
        ):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        parameters=[
            *RANGE_PARAMETERS,
            OpenApiParameter(
                "ordering",
                str,
                description="adherence_pct, current_streak_days, last_check_in, last_name, "
                "… (prefix - for descending; empty values sort last)",
            ),
            OpenApiParameter("has_open_alerts", bool),
            ARCHIVED_PARAMETER,
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={
            (200, "application/json"): ClinicPageSerializer,
            (200, "text/csv"): {"type": "string", "description": "Every row, as CSV"},
        },
    )
    def get(self, request):
        clinic = request.user.clinic
        start, end = date_range(request, ZoneInfo(clinic.timezone))
        # Without a range each row takes its patient's own default, in their zone; the
        # clinic's dates then only name the export.
        given = {"from", "to"} & request.query_params.keys()
        row_start, row_end = (start, end) if given else (None, None)
        ordering = request.query_params.get("ordering", "last_name")
        field = ordering.removeprefix("-")
        if field not in SQL_ORDERINGS and field not in COMPUTED_ORDERINGS:
            choices = ", ".join(sorted({*SQL_ORDERINGS, *COMPUTED_ORDERINGS}))
            raise serializers.ValidationError({"ordering": [f"Choose one of: {choices}."]})
        descending = ordering.startswith("-")
        patients = adherence.clinic_patients(clinic.id, archived=archived_filter(request))
        has_open = request.query_params.get("has_open_alerts")
        if has_open is not None:
            try:
                flag = serializers.BooleanField().run_validation(has_open)
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"has_open_alerts": error.detail}) from None
            patients = (
                patients.filter(open_alerts__gt=0) if flag else patients.filter(open_alerts=0)
            )
        now = timezone.now()
        export = request.accepted_renderer.format == "csv"

        if field in SQL_ORDERINGS:
            patients = patients.order_by(
                *(
                    F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
                    for name in SQL_ORDERINGS[field]
                )
            )
            paginator = PageNumberPagination()
            page = (
                list(patients) if export else paginator.paginate_queryset(patients, request, self)
            )
            # Only this page's patients: their ids bound the check-ins read.
            rows = adherence.clinic_rows(page, start=row_start, end=row_end, now=now)
        else:
            everyone = list(patients.order_by("last_name", "first_name", "id"))
            rows = adherence.clinic_rows(
                everyone, start=row_start, end=row_end, now=now, clinic_id=clinic.id
            )
            rows = sort_rows(rows, field, descending)
            paginator = PageNumberPagination()
            if not export:
                rows = paginator.paginate_queryset(rows, request, self)

        audit_record(
            request,
            patients=[row["patient"] for row in rows],
            action=Action.EXPORT if export else Action.READ,
        )
        if export:
            filename = f"adherence-{clinic.slug}-{start.isoformat()}-{end.isoformat()}.csv"
            return Response(
                as_csv(ClinicRowSerializer(rows, many=True).data),
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return paginator.get_paginated_response(ClinicRowSerializer(rows, many=True).data)


def sort_rows(rows: list[dict], field: str, descending: bool) -> list[dict]:
    """Sorted on one computed field, rows without a value last either way."""
    present = [r for r in rows if r[field] is not None]
    missing = [r for r in rows if r[field] is None]
    return sorted(present, key=lambda r: r[field], reverse=descending) + missing


def spreadsheet_safe(text: str) -> str:
    """A name a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        pain = row["pain"]
        writer.writerow(
            {
                **row,
                "first_name": spreadsheet_safe(row["first_name"]),
                "last_name": spreadsheet_safe(row["last_name"]),
                "pain_baseline": pain["baseline"],
                "pain_recent": pain["recent"],
                "pain_change": pain["change"],
                "pain_meaningful": str(pain["meaningful"]).lower(),
            }
        )
    return out.getvalue()
