"""Reminder times and sent reminders (the patient's preferences are in patients.api)."""

from datetime import UTC, timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.validation import (
    IdFilter,
    LocalDateRangeQuery,
    with_local_date_range,
)
from clinic.audit import Action, AuditedMixin, audit_record
from clinic.permissions import EVERYONE, RolePermission
from prescriptions.models import Reminder
from prescriptions.reminders import histories_for, plan_for
from prescriptions.schedule import local_date_of, occurrences
from prescriptions.selectors import prescriptions_in_reach, reminders_in_reach

# The contract's bound on a schedule request, both ends included.
SCHEDULE_MAX_DATES = 92
DEFAULT_SCHEDULE_DATES = 7


# --- Schedule ---------------------------------------------------------------------------


class ScheduleQuerySerializer(LocalDateRangeQuery):
    def validate(self, attrs):
        first, last = attrs.get("from"), attrs.get("to")
        if first and last:
            if last < first:
                raise serializers.ValidationError({"to": ["Must not be before `from`."]})
            if (last - first).days + 1 > SCHEDULE_MAX_DATES:
                raise serializers.ValidationError(
                    {"to": [f"At most {SCHEDULE_MAX_DATES} dates, both ends included."]}
                )
        return attrs


class ScheduleEntrySerializer(serializers.Serializer):
    slot = serializers.CharField()
    local_date = serializers.DateField()
    fire_at = serializers.DateTimeField(default_timezone=UTC)


class ScheduleView(APIView):
    """The reminder times of a prescription over a range of the patient's local dates.

    Without `from` the range starts today (patient's zone); without `to` it spans 7 dates.
    """

    permission_classes = [RolePermission]
    read_roles = EVERYONE

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="first local date"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last local date (≤ 92 dates)"),
        ],
        responses=ScheduleEntrySerializer(many=True),
    )
    def get(self, request, pk: int):
        prescription = get_object_or_404(
            prescriptions_in_reach(request.user).select_related("patient", "protocol"),
            pk=pk,
        )
        audit_record(request, patients=[prescription.patient_id], action=Action.READ)
        query = ScheduleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tz = prescription.zone
        first = query.validated_data.get("from")
        last = query.validated_data.get("to")
        if first is None:
            first = local_date_of(timezone.now(), tz) if last is None else last - timedelta(days=6)
        if last is None:
            last = first + timedelta(days=DEFAULT_SCHEDULE_DATES - 1)
        plan = plan_for(
            prescription,
            histories_for([prescription.id])[prescription.id],
            prescription.slots.all(),
        )
        return Response(ScheduleEntrySerializer(occurrences(plan, first, last), many=True).data)


# --- Reminders --------------------------------------------------------------------------


class ReminderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reminder
        fields = [
            "id",
            "prescription",
            "slot",
            "local_date",
            "fire_at",
            "channel",
            "status",
            "sent_at",
            "reason",
        ]


class ReminderFilter(filters.FilterSet):
    patient = IdFilter(field_name="prescription__patient_id")
    prescription = IdFilter(field_name="prescription_id")
    status = filters.ChoiceFilter(choices=Reminder.Status.choices)

    class Meta:
        model = Reminder
        fields = ["patient", "prescription", "status"]


with_local_date_range(ReminderFilter, "local_date")


class ReminderListView(AuditedMixin, generics.ListAPIView):
    """Reminders the caller may see, newest first: a patient their own, the clinic team
    their clinic's. Filters: `patient`, `prescription`, `status`, `from`, `to` (local dates)."""

    permission_classes = [RolePermission]
    read_roles = EVERYONE
    serializer_class = ReminderSerializer
    filterset_class = ReminderFilter
    audit_patient = "prescription.patient_id"

    def get_queryset(self):
        return (
            reminders_in_reach(self.request.user)
            .select_related("prescription")
            .order_by("-fire_at", "-id")
        )
