from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from rest_framework import serializers

from clinic.api.validation import StrictSerializerMixin
from patients import services
from patients.models import Patient

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ().-]{4,30}$", "Enter a phone number such as +1 555 010 0199."
)


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
        ]
        read_only_fields = fields


def validate_zone(value: str) -> str:
    if value not in services.iana_zones():
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
