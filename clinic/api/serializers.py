from rest_framework import serializers

from clinic.models import AuditEntry, User


class SignInSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Once a second factor is on: the app's current code or an unused recovery code.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    role = serializers.ChoiceField(choices=User.Role.choices)


class MeSerializer(serializers.ModelSerializer):
    clinic_name = serializers.CharField(source="clinic.name", read_only=True, default=None)
    patient = serializers.SerializerMethodField()
    timezone = serializers.SerializerMethodField(help_text="A patient's IANA zone, else null.")
    phone = serializers.SerializerMethodField(help_text="A patient's phone number, else null.")

    class Meta:
        model = User
        fields = ["id", "username", "role", "clinic", "clinic_name", "patient", "timezone", "phone"]

    def get_patient(self, user: User) -> int | None:
        return user.patient.id if user.is_patient else None

    def get_timezone(self, user: User) -> str | None:
        return user.patient.timezone if user.is_patient else None

    def get_phone(self, user: User) -> str | None:
        return user.patient.phone if user.is_patient else None


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "role", "action", "method", "path", "request_id"]
        read_only_fields = fields
