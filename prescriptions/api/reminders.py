"""Reminder times, sent reminders and the patient's reminder preferences."""

import ipaddress
from datetime import UTC, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.core.validators import URLValidator
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
    LocalDateField,
    StrictSerializerMixin,
    with_local_date_range,
)
from clinic.permissions import EVERYONE, PATIENT, RolePermission, in_reach
from patients.models import ReminderPreference
from prescriptions.models import Prescription, Reminder
from prescriptions.reminders import histories_for, plan_for, reminder_preference_update
from prescriptions.schedule import local_date_of, occurrences

# The contract's bound on a schedule request, both ends included.
SCHEDULE_MAX_DATES = 92
DEFAULT_SCHEDULE_DATES = 7


# --- Schedule ---------------------------------------------------------------------------


class ScheduleQuerySerializer(serializers.Serializer):
    # `from` is a Python keyword, hence the declared field names below.
    def get_fields(self):
        return {
            "from": LocalDateField(required=False),
            "to": LocalDateField(required=False),
        }

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
            in_reach(Prescription.objects.select_related("patient", "protocol"), request.user),
            pk=pk,
        )
        query = ScheduleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tz = ZoneInfo(prescription.patient.timezone)
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


class ReminderListView(generics.ListAPIView):
    """Reminders the caller may see, newest first: a patient their own, the clinic team
    their clinic's. Filters: `patient`, `prescription`, `status`, `from`, `to` (local dates)."""

    permission_classes = [RolePermission]
    read_roles = EVERYONE
    serializer_class = ReminderSerializer
    filterset_class = ReminderFilter

    def get_queryset(self):
        return in_reach(
            Reminder.objects.order_by("-fire_at", "-id"),
            self.request.user,
            via="prescription__patient",
        )


# --- Preferences ------------------------------------------------------------------------


def webhook_host_allowed(url: str) -> bool:
    """Whether the worker may post to this URL's host: not this machine, nor an address on
    a private or link-local network (the cloud metadata service, the broker, the database).
    Host names are trusted to resolve publicly; an address written out is checked here."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True


class ReminderPreferenceSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    quiet_start = serializers.TimeField(
        format="%H:%M", input_formats=["%H:%M"], allow_null=True, required=False
    )
    quiet_end = serializers.TimeField(
        format="%H:%M", input_formats=["%H:%M"], allow_null=True, required=False
    )
    # https only: the API refuses private addresses, so every webhook crosses the public
    # internet, where plain http would show anyone on the path that this person is treated
    # for back pain and when they go to bed, and hand them the signed request to replay.
    webhook_url = serializers.CharField(
        allow_blank=True,
        required=False,
        max_length=200,
        validators=[URLValidator(schemes=["https"], message="Use an https:// address.")],
        help_text="An https:// address on the public internet; required for the webhook channel.",
    )
    rotate_webhook_secret = serializers.BooleanField(
        write_only=True,
        required=False,
        help_text="Replace the webhook secret; the answer shows the new one, this once.",
    )

    class Meta:
        model = ReminderPreference
        fields = ["channel", "quiet_start", "quiet_end", "webhook_url", "rotate_webhook_secret"]

    def validate(self, attrs):
        def merged(field):
            return attrs[field] if field in attrs else getattr(self.instance, field)

        start, end = merged("quiet_start"), merged("quiet_end")
        if (start is None) != (end is None):
            missing = "quiet_end" if end is None else "quiet_start"
            raise serializers.ValidationError(
                {missing: ["Set quiet_start and quiet_end together (or clear both)."]}
            )
        if start is not None and start == end:
            raise serializers.ValidationError({"quiet_end": ["Must differ from quiet_start."]})
        if merged("channel") == ReminderPreference.Channel.WEBHOOK and not merged("webhook_url"):
            raise serializers.ValidationError(
                {"webhook_url": ["Required when the channel is webhook."]}
            )
        if attrs.get("webhook_url") and not webhook_host_allowed(attrs["webhook_url"]):
            raise serializers.ValidationError(
                {"webhook_url": ["Use an address on the public internet."]}
            )
        if (
            attrs.get("channel") == ReminderPreference.Channel.SMS
            and not self.instance.patient.phone
        ):
            raise serializers.ValidationError(
                {"channel": ["No phone number is on file: ask the clinic to add one first."]}
            )
        return attrs


class ReminderPreferenceView(APIView):
    """The signed-in patient's reminder preferences.

    The webhook secret signs every webhook request. It is shown once, in the PATCH answer
    that sets or changes `webhook_url` (a new secret each time) or asks for
    `rotate_webhook_secret`; never in a GET.
    """

    permission_classes = [RolePermission]
    read_roles = frozenset({PATIENT})
    write_roles = frozenset({PATIENT})

    def _preference(self):
        preference, _ = ReminderPreference.objects.get_or_create(patient=self.request.user.patient)
        return preference

    @extend_schema(responses=ReminderPreferenceSerializer)
    def get(self, request):
        return Response(ReminderPreferenceSerializer(self._preference()).data)

    @extend_schema(request=ReminderPreferenceSerializer, responses=ReminderPreferenceSerializer)
    def patch(self, request):
        preference = self._preference()
        serializer = ReminderPreferenceSerializer(preference, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        rotate = changes.pop("rotate_webhook_secret", False)
        preference, new_secret = reminder_preference_update(
            preference=preference, changes=changes, rotate_webhook_secret=rotate
        )
        data = ReminderPreferenceSerializer(preference).data
        if new_secret:
            data["webhook_secret"] = new_secret
        return Response(data)
