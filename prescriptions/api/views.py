import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.validation import IdFilter, as_api_error, with_local_date_range
from clinic.audit import Action, AuditedMixin, audit_record, audit_write
from clinic.models import User
from clinic.permissions import CLINICIAN, EVERYONE, PATIENT, RolePermission
from prescriptions import checkins, history, services
from prescriptions.api import idempotency
from prescriptions.api.serializers import (
    CheckInSerializer,
    CheckInWriteSerializer,
    HistoryEntrySerializer,
    PrescriptionChangeSerializer,
    PrescriptionSerializer,
    PrescriptionStatusChangeSerializer,
    PrescriptionWriteSerializer,
    ProtocolSerializer,
)
from prescriptions.models import CheckIn, CheckInSlot, Prescription, Protocol
from prescriptions.selectors import checkins_in_reach, prescriptions_in_reach


def prescriptions_visible_to(user: User) -> QuerySet[Prescription]:
    return prescriptions_in_reach(user).select_related("protocol", "patient")


def checkins_visible_to(user: User) -> QuerySet[CheckIn]:
    return checkins_in_reach(user).select_related("patient")


class ProtocolList(generics.ListAPIView):
    permission_classes = [RolePermission]
    read_roles = EVERYONE
    serializer_class = ProtocolSerializer
    queryset = Protocol.objects.order_by("slug")


class ProtocolDetail(generics.RetrieveAPIView):
    permission_classes = [RolePermission]
    read_roles = EVERYONE
    serializer_class = ProtocolSerializer
    queryset = Protocol.objects.all()
    lookup_field = "slug"


class PrescriptionFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    status = django_filters.ChoiceFilter(
        choices=Prescription.Status.choices,
        method="filter_status",
        help_text="The status the prescription reads now (past its end date: ended).",
    )

    class Meta:
        model = Prescription
        fields = ["patient", "status"]

    def filter_status(self, queryset, name, value):
        return queryset.reading(value)


class PrescriptionList(AuditedMixin, generics.ListCreateAPIView):
    """Clinicians prescribe; staff and the patient read (a patient sees only their own).

    A patient holds at most one prescription of a protocol at any date: a new one whose
    dates meet an open (not ended) one answers 400 on `patient`; change, end or give an
    `end_date` to the open one first. Without `slots`, the protocol's default slots apply.
    """

    permission_classes = [RolePermission]
    read_roles = EVERYONE
    write_roles = {CLINICIAN}
    serializer_class = PrescriptionSerializer
    filterset_class = PrescriptionFilter

    def get_queryset(self):
        return prescriptions_visible_to(self.request.user).prefetch_related(
            "slots", "status_changes"
        )

    @extend_schema(request=PrescriptionWriteSerializer, responses={201: PrescriptionSerializer})
    def post(self, request):
        serializer = PrescriptionWriteSerializer(data=request.data, user=request.user)
        serializer.is_valid(raise_exception=True)
        try:
            prescription = services.prescription_create(
                clinician=request.user, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        audit_record(request, patients=[prescription.patient_id], action=Action.CREATE)
        return Response(PrescriptionSerializer(prescription).data, status=status.HTTP_201_CREATED)


class PrescriptionDetail(AuditedMixin, generics.RetrieveUpdateAPIView):
    permission_classes = [RolePermission]
    read_roles = EVERYONE
    write_roles = {CLINICIAN}
    serializer_class = PrescriptionSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return prescriptions_visible_to(self.request.user).prefetch_related(
            "slots", "status_changes"
        )

    @extend_schema(request=PrescriptionChangeSerializer, responses={200: PrescriptionSerializer})
    def patch(self, request, *args, **kwargs):
        prescription = self.get_object()
        serializer = PrescriptionChangeSerializer(prescription, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "end_date" in changes and changes["end_date"] is None:
            del changes["end_date"]
            changes["clear_end_date"] = True
        try:
            prescription = services.prescription_update(
                prescription=prescription, by=request.user, **changes
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        return Response(PrescriptionSerializer(prescription).data)


class PrescriptionStatusChange(APIView):
    """Pause, resume or end, from `effective` (default now); the history keeps each change."""

    permission_classes = [RolePermission]
    write_roles = {CLINICIAN}
    change = None  # "pause", "resume" or "end", set in urls
    target = {
        "pause": Prescription.Status.PAUSED,
        "resume": Prescription.Status.ACTIVE,
        "end": Prescription.Status.ENDED,
    }

    @extend_schema(
        request=PrescriptionStatusChangeSerializer,
        responses={
            200: PrescriptionSerializer,
            400: OpenApiResponse(description="Bad `effective`, or not possible in this status"),
        },
    )
    def post(self, request, pk: int):
        prescription = generics.get_object_or_404(prescriptions_visible_to(request.user), pk=pk)
        audit_record(request, patients=[prescription.patient_id], action=Action.UPDATE)
        serializer = PrescriptionStatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.prescription_status_change(
                prescription=prescription,
                to=self.target[self.change],
                by=request.user,
                **serializer.validated_data,
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        prescription = (
            prescriptions_visible_to(request.user)
            .prefetch_related("slots", "status_changes")
            .get(pk=pk)
        )
        return Response(PrescriptionSerializer(prescription).data)


class PrescriptionHistory(APIView):
    """Every change to the prescription, oldest first: created, plan (each field before →
    after), paused, resumed, ended; who and when, and the reason given."""

    permission_classes = [RolePermission]
    read_roles = EVERYONE

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    def get(self, request, pk: int):
        prescription = generics.get_object_or_404(
            prescriptions_visible_to(request.user).prefetch_related(*history.history_prefetch()),
            pk=pk,
        )
        audit_record(request, patients=[prescription.patient_id], action=Action.READ)
        entries = history.prescription_history(prescription)
        return Response(HistoryEntrySerializer(entries, many=True).data)


class CheckInFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    prescription = IdFilter(field_name="prescription_id")
    slot = django_filters.ChoiceFilter(choices=CheckInSlot.choices)

    class Meta:
        model = CheckIn
        fields = ["patient", "prescription", "slot"]


with_local_date_range(CheckInFilter, "local_date")


class CheckInList(AuditedMixin, generics.ListAPIView):
    """Sessions reported by patients; a patient posts and reads their own.

    A POST with an `Idempotency-Key` header may be retried safely: the same key and body
    answer the first response again (header `Idempotent-Replayed: true`), the same key with
    another body answers 409. `from` and `to` filter on the local date a check-in counts for.
    """

    permission_classes = [RolePermission]
    read_roles = EVERYONE
    write_roles = {PATIENT}
    serializer_class = CheckInSerializer
    filterset_class = CheckInFilter

    def get_queryset(self):
        return checkins_visible_to(self.request.user)

    @extend_schema(
        request=CheckInWriteSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Retry-safe key: the same key and body replay the first response.",
            )
        ],
        responses={
            201: CheckInSerializer,
            409: OpenApiResponse(description="Idempotency-Key reused with a different body"),
        },
    )
    def post(self, request):
        def record() -> tuple[int, dict]:
            serializer = CheckInWriteSerializer(data=request.data, patient_user=request.user)
            serializer.is_valid(raise_exception=True)
            try:
                checkin = checkins.checkin_record_locked(**serializer.validated_data)
            except DjangoValidationError as error:
                raise as_api_error(error) from None
            # In the check-in's transaction: one commit for both, and no check-in without
            # its entry (a failed insert answers 503 and keeps nothing).
            audit_write(request, patients=[checkin.patient_id], action=Action.CREATE)
            return status.HTTP_201_CREATED, CheckInSerializer(checkin).data

        return idempotency.respond_once_audited(request, record)


class CheckInDetail(AuditedMixin, generics.RetrieveAPIView):
    permission_classes = [RolePermission]
    read_roles = EVERYONE
    serializer_class = CheckInSerializer

    def get_queryset(self):
        return checkins_visible_to(self.request.user)
