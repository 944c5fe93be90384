"""Alerts for the clinic team: list them, and a clinician acknowledges them."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.validation import IdFilter, StrictSerializerMixin, TrueFalseFilter
from clinic.audit import Action, AuditedMixin, audit_record
from clinic.permissions import CLINIC_TEAM, CLINICIAN, RolePermission
from prescriptions import alerts
from prescriptions.models import Alert
from prescriptions.selectors import alerts_in_reach


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            "patient",
            "prescription",
            "kind",
            "created_at",
            "details",
            "acknowledged_at",
            "acknowledged_by",
            "note",
        ]
        read_only_fields = fields
        extra_kwargs = {"note": {"help_text": "What the clinician did, from the acknowledgement."}}


class AcknowledgeSerializer(StrictSerializerMixin, serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="What the clinician did about it (optional).",
    )


class AlertFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    kind = django_filters.ChoiceFilter(choices=Alert.Kind.choices)
    acknowledged = TrueFalseFilter(field_name="acknowledged_at", lookup_expr="isnull", exclude=True)
    open = TrueFalseFilter(field_name="acknowledged_at", lookup_expr="isnull")

    class Meta:
        model = Alert
        fields = ["patient", "kind", "acknowledged", "open"]


class AlreadyAcknowledged(exceptions.APIException):
    status_code = 400
    default_code = "already_acknowledged"


class AlertList(AuditedMixin, generics.ListAPIView):
    """The clinic's alerts, newest first; `acknowledged=false` (or `open=true`) for those
    not yet acknowledged."""

    permission_classes = [RolePermission]
    read_roles = CLINIC_TEAM
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    # For the schema generator, which has no signed-in user to scope by.
    queryset = Alert.objects.none()

    def get_queryset(self):
        return alerts_in_reach(self.request.user)


class AlertAcknowledge(APIView):
    """The clinician has seen the alert; it closes, and the rule may raise a new one later."""

    permission_classes = [RolePermission]
    write_roles = {CLINICIAN}

    @extend_schema(request=AcknowledgeSerializer, responses=AlertSerializer)
    def post(self, request, pk: int):
        alert = get_object_or_404(alerts_in_reach(request.user), pk=pk)
        audit_record(request, patients=[alert.patient_id], action=Action.UPDATE)
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alert = alerts.alert_acknowledge(alert=alert, by=request.user, **body.validated_data)
        except alerts.AlertAlreadyAcknowledged as already:
            raise AlreadyAcknowledged(str(already)) from None
        return Response(AlertSerializer(alert).data)
