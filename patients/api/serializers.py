from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from clinic.addresses import url_host_public
from clinic.api.validation import StrictSerializerMixin
from clinic.models import iana_zones
from patients import services
from patients.models import Patient, ReminderPreference
from patients.validators import phone_validator


class PatientSerializer(serializers.ModelSerializer):
    activated = serializers.BooleanField(
        source="user.is_active", read_only=True, help_text="Whether the patient has signed up."
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "timezone",
            "clinic",
            "activated",
            "created_at",
            "archived_at",
        ]
        read_only_fields = fields


def validate_zone(value: str) -> str:
    if value not in iana_zones():
        raise serializers.ValidationError(
            f"{value!r} is not an IANA time zone name (such as America/New_York)."
        )
    return value


class PatientWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """Enrolment (POST) and changes (PATCH, partial) of a patient's record."""

    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )
    timezone = serializers.CharField(
        max_length=64,
        required=False,
        help_text="IANA time zone name, e.g. Europe/London; defaults to the clinic's.",
    )

    def validate_email(self, value: str) -> str:
        value = services.normalize_email(value)
        editing = self.instance.user_id if self.instance else None
        if services.email_taken(value, except_user_id=editing):
            raise serializers.ValidationError("This email is already in use.")
        return value

    def validate_timezone(self, value: str) -> str:
        return validate_zone(value)


class MeChangeSerializer(StrictSerializerMixin, serializers.Serializer):
    """What a patient may change about themselves; the clinic keeps the rest."""

    timezone = serializers.CharField(
        max_length=64,
        required=False,
        validators=[validate_zone],
        help_text="IANA time zone name; reminders follow it from the next slot on.",
    )
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )


class EnrolmentSerializer(PatientSerializer):
    activation_code = serializers.CharField(
        help_text="Shown once: the patient types it with a new password at auth/activate/."
    )
    activation_expires_at = serializers.DateTimeField()

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "activation_code", "activation_expires_at"]
        read_only_fields = fields


class ActivationCodeSerializer(serializers.Serializer):
    activation_code = serializers.CharField()
    activation_expires_at = serializers.DateTimeField()


class ActivateSerializer(StrictSerializerMixin, serializers.Serializer):
    code = serializers.CharField(max_length=64)
    password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs):
        activation = services.activation_code_find(attrs["code"])
        if activation is None:
            raise serializers.ValidationError(
                {"code": ["This code is not valid, has expired or has already been used."]}
            )
        try:
            validate_password(attrs["password"], user=activation.patient.user)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": error.messages}) from None
        return attrs


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
        if attrs.get("webhook_url") and not url_host_public(attrs["webhook_url"]):
            raise serializers.ValidationError(
                {"webhook_url": ["Use an address on the public internet."]}
            )
        return attrs
