"""Adherence reports: one patient's (`patients/{id}/adherence/`) and the clinic's."""

from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.validation import LocalDateRangeQuery, as_api_error
from clinic.audit import Action, audit_record
from clinic.pagination import PAGE_PARAMETERS, PageNumberPagination
from clinic.permissions import CLINIC_TEAM, EVERYONE, RolePermission
from patients.api.views import ARCHIVED_PARAMETER, archived_filter
from patients.selectors import patients_in_reach
from prescriptions import adherence
from prescriptions.api.serializers import INSTANT
from prescriptions.models import Prescription
from prescriptions.schedule import local_today

# --- Input ------------------------------------------------------------------------------


class RangeSerializer(LocalDateRangeQuery):
    """`from` and `to` local dates, both optional: the default is the 28 days up to today."""

    def validate(self, attrs):
        try:
            start, end = adherence.resolve_range(
                self.context["today"], attrs.get("from"), attrs.get("to")
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        return {"start": start, "end": end}


def date_range(request, tz: ZoneInfo):
    serializer = RangeSerializer(data=request.query_params, context={"today": local_today(tz)})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["start"], serializer.validated_data["end"]


RANGE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First local date, YYYY-MM-DD"),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description="Last local date, YYYY-MM-DD (default today)"
    ),
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
    adherence_pct_7d = pct_field()

    def to_representation(self, row: dict) -> dict:
        # Written out rather than through the fields above (kept for the schema): with 22
        # fields a row, DRF's field-by-field rendering was most of a 1,000-patient page's
        # time in Python. tests/prescriptions/test_adherence_api.py holds the two equal.
        pain = row["pain"]
        last_check_in = row["last_check_in"]
        return {
            "patient": row["patient"],
            "from": row["from"].isoformat(),
            "to": row["to"].isoformat(),
            "expected_sessions": int(row["expected_sessions"]),
            "completed_sessions": int(row["completed_sessions"]),
            "adherence_pct": _number(row["adherence_pct"]),
            "active_days": int(row["active_days"]),
            "days_with_session": int(row["days_with_session"]),
            "current_streak_days": int(row["current_streak_days"]),
            "extra_sessions": int(row["extra_sessions"]),
            "night_sessions": int(row["night_sessions"]),
            "pain": {
                "baseline": _number(pain["baseline"]),
                "recent": _number(pain["recent"]),
                "change": _number(pain["change"]),
                "meaningful": bool(pain["meaningful"]),
            },
            "prescription_status": row["prescription_status"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "last_check_in": last_check_in and INSTANT.to_representation(last_check_in),
            "open_alerts": int(row["open_alerts"]),
            "adherence_pct_7d": _number(row["adherence_pct_7d"]),
        }


def _number(value) -> float | None:
    return None if value is None else float(value)


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
        patient = get_object_or_404(patients_in_reach(request.user), pk=pk)
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


class CSVExportMixin:
    """For an APIView that answers JSON or, with `?format=csv`, CSV."""

    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors stay JSON even when the caller asked for CSV.
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), CSVRenderer
        ):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


class ClinicAdherenceView(CSVExportMixin, APIView):
    """Every patient of the caller's clinic, one report row each, sortable and exportable."""

    permission_classes = [RolePermission]
    read_roles = CLINIC_TEAM

    @extend_schema(
        parameters=[
            *RANGE_PARAMETERS,
            *PAGE_PARAMETERS,
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
        start, end = date_range(request, clinic.zone)
        ordering = request.query_params.get("ordering", "last_name")
        if ordering.removeprefix("-") not in adherence.ORDERINGS:
            choices = ", ".join(sorted(adherence.ORDERINGS))
            raise serializers.ValidationError({"ordering": [f"Choose one of: {choices}."]})
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
        # Without a range each row takes its patient's own default, in their zone; the
        # clinic's dates then only name the export.
        given = {"from", "to"} & request.query_params.keys()
        rows = adherence.clinic_adherence(
            clinic_id=clinic.id,
            patients=patients,
            start=start if given else None,
            end=end if given else None,
            ordering=ordering,
        )
        if request.accepted_renderer.format == "csv":
            audit_record(request, patients=rows.patient_ids(), action=Action.EXPORT)
            return adherence.csv_response(rows, clinic, start, end)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, self)
        audit_record(request, patients=[r["patient"] for r in page], action=Action.READ)
        return paginator.get_paginated_response(ClinicRowSerializer(page, many=True).data)
