import csv
import io

import django_filters
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.validation import IdFilter
from clinic.audit import Action, AuditedMixin, audit_record, audit_write
from clinic.pagination import PAGE_PARAMETERS, PageNumberPagination
from clinic.permissions import CLINIC_TEAM, EVERYONE, PATIENT, RolePermission
from outcomes import selectors, services
from outcomes.answers import AnswersInvalid
from outcomes.api.serializers import (
    ClinicOutcomePageSerializer,
    ClinicOutcomeSerializer,
    PatientOutcomeSerializer,
    QuestionnaireResponseSerializer,
    QuestionnaireResponseWriteSerializer,
    QuestionnaireSerializer,
)
from outcomes.models import Questionnaire, QuestionnaireResponse
from patients.selectors import patients_in_reach
from prescriptions.adherence import BOM, spreadsheet_safe
from prescriptions.api import idempotency
from prescriptions.api.adherence import CSVExportMixin
from prescriptions.schedule import local_today


class QuestionnaireList(generics.ListAPIView):
    permission_classes = [RolePermission]
    read_roles = EVERYONE
    serializer_class = QuestionnaireSerializer
    queryset = Questionnaire.objects.order_by("slug")


class QuestionnaireDetail(generics.RetrieveAPIView):
    permission_classes = [RolePermission]
    read_roles = EVERYONE
    serializer_class = QuestionnaireSerializer
    queryset = Questionnaire.objects.all()
    lookup_field = "slug"


def responses_visible_to(user):
    return selectors.with_baseline(selectors.responses_in_reach(user))


class ResponseFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    questionnaire = django_filters.CharFilter(
        field_name="questionnaire__slug", help_text="The instrument's slug."
    )

    class Meta:
        model = QuestionnaireResponse
        fields = ["patient", "questionnaire"]


class QuestionnaireResponseList(AuditedMixin, generics.ListAPIView):
    """Completed questionnaires, oldest first. A patient answers for themselves (the
    response is theirs, never another's) and reads their own; the clinic team reads its
    patients'.

    A POST is scored at once. A value out of range, an unknown item or a required item
    left out answers 400 naming the item under `answers` and stores nothing. On a PSFS
    follow-up each activity's `label` may be left out: the first response's is kept.
    """

    permission_classes = [RolePermission]
    read_roles = EVERYONE
    write_roles = {PATIENT}
    serializer_class = QuestionnaireResponseSerializer
    filterset_class = ResponseFilter

    def get_queryset(self):
        return responses_visible_to(self.request.user).order_by("answered_at", "id")

    @extend_schema(
        request=QuestionnaireResponseWriteSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Retry-safe key: the same key and body replay the first response.",
            )
        ],
        responses={
            201: QuestionnaireResponseSerializer,
            400: OpenApiResponse(description="`answers`: item id → what is wrong with it"),
            409: OpenApiResponse(description="Idempotency-Key reused with a different body"),
        },
    )
    def post(self, request):
        def record() -> tuple[int, dict]:
            serializer = QuestionnaireResponseWriteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            patient = request.user.patient
            try:
                created = services.questionnaire_response_create(
                    patient=patient, created_by=request.user, **serializer.validated_data
                )
            except AnswersInvalid as error:
                raise serializers.ValidationError({"answers": error.errors}) from None
            # In the response's transaction: no response without its entry.
            audit_write(request, patients=[patient.id], action=Action.CREATE)
            created = responses_visible_to(request.user).get(pk=created.pk)
            return status.HTTP_201_CREATED, QuestionnaireResponseSerializer(created).data

        # A phone that lost its connection after sending resends with the same key: a
        # follow-up counted twice would skew the series and the clinic's summary.
        return idempotency.respond_once_audited(request, record)


class QuestionnaireResponseDetail(AuditedMixin, generics.RetrieveAPIView):
    permission_classes = [RolePermission]
    read_roles = EVERYONE
    serializer_class = QuestionnaireResponseSerializer

    def get_queryset(self):
        return responses_visible_to(self.request.user)


class PatientOutcomesView(APIView):
    """Per instrument the patient answered: baseline, latest, change, responder or not, and
    the series of scores (dates local to the patient)."""

    permission_classes = [RolePermission]
    read_roles = EVERYONE

    @extend_schema(responses=PatientOutcomeSerializer(many=True))
    def get(self, request, pk: int):
        patient = get_object_or_404(patients_in_reach(request.user), pk=pk)
        audit_record(request, patients=[patient.id], action=Action.READ)
        outcomes = selectors.patient_outcomes(patient)
        return Response(PatientOutcomeSerializer(outcomes, many=True).data)


CSV_COLUMNS = [
    "questionnaire",
    "patients_with_baseline",
    "patients_followed_up",
    "responders",
    "responder_pct",
    "median_change",
]


class ClinicOutcomesView(CSVExportMixin, APIView):
    """The clinic's outcomes per instrument. Counts only, no patient's data: it leaves no
    audit entry (the adherence table, which lists patients, does)."""

    permission_classes = [RolePermission]
    read_roles = CLINIC_TEAM

    @extend_schema(
        operation_id="v1_outcomes_list",
        parameters=[*PAGE_PARAMETERS, OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={
            (200, "application/json"): ClinicOutcomePageSerializer,
            (200, "text/csv"): {"type": "string", "description": "Every row, as CSV"},
        },
    )
    def get(self, request):
        clinic = request.user.clinic
        rows = selectors.clinic_outcomes(clinic.id)
        if request.accepted_renderer.format == "csv":
            return summary_csv(rows, clinic)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, self)
        return paginator.get_paginated_response(ClinicOutcomeSerializer(page, many=True).data)


def summary_csv(rows: list[dict], clinic, *, bom: bool = False) -> HttpResponse:
    """The clinic's summary as a CSV download (`bom`: for a spreadsheet, the web page's)."""
    out = io.StringIO()
    if bom:
        out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [spreadsheet_safe(row["questionnaire"]), *(row[name] for name in CSV_COLUMNS[1:])]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"outcomes-{clinic.slug}-{local_today(clinic.zone).isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
