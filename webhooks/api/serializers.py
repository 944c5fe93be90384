from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.api.validation import StrictBooleanField, StrictSerializerMixin
from clinic.events import Type
from webhooks import addresses
from webhooks.models import Attempt, Delivery, Endpoint


class EndpointSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    url = serializers.CharField(
        max_length=500,
        help_text=(
            "Where deliveries are posted: https:// on a public address (under "
            "WEBHOOKS_ALLOW_LOCAL=1, http:// and local addresses too)."
        ),
    )
    events = serializers.ListField(
        child=serializers.CharField(max_length=64),
        help_text=f'Event types ({", ".join(Type.values)}), or ["*"] for every type.',
    )
    is_active = StrictBooleanField(
        required=False,
        help_text="false: nothing is posted; true again: the endpoint starts afresh.",
    )

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "url",
            "events",
            "is_active",
            "created_at",
            "failing_since",
            "disabled_at",
            "disabled_reason",
        ]
        read_only_fields = ["id", "created_at", "failing_since", "disabled_at", "disabled_reason"]

    def validate_url(self, value: str) -> str:
        problem = addresses.url_problem(value.strip())
        if problem:
            raise serializers.ValidationError(problem)
        return value.strip()

    def validate_events(self, value: list[str]) -> list[str]:
        problem = addresses.events_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return sorted(set(value))


class NewEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (whsec_…): shown in this answer only, never again.",
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = ["at", "status_code", "duration_ms", "error"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.IntegerField(
        source="event_id", read_only=True, help_text="The event's id: the webhook-id header."
    )
    type = serializers.CharField(source="event.type", read_only=True)
    next_attempt_at = serializers.SerializerMethodField(
        help_text="When the next try is due (null unless pending)."
    )
    tries = AttemptSerializer(
        many=True, read_only=True, help_text="Each try, oldest first (newest last)."
    )

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "tries",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_next_attempt_at(self, delivery: Delivery):
        if delivery.status != Delivery.Status.PENDING:
            return None
        return serializers.DateTimeField().to_representation(delivery.next_attempt_at)
