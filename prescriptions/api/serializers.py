from datetime import date, time

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.api.validation import (
    LocalDateField,
    OffsetDateTimeField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializerMixin,
)
from patients.models import Patient
from patients.selectors import patients_in_reach
from prescriptions import extensions, services
from prescriptions.models import (
    CheckIn,
    CheckInSlot,
    Prescription,
    Protocol,
    RedFlag,
    SlotKind,
    StatusChange,
)
from prescriptions.schedule import local_today


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "07:00"}
)
class HourMinuteField(serializers.Field):
    """A local wall-clock time written `HH:MM` (24-hour)."""

    default_error_messages = {"invalid": "Use HH:MM, e.g. 07:00 or 22:30."}

    def to_internal_value(self, value) -> time:
        if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
            self.fail("invalid")
        try:
            return time.fromisoformat(value)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: time) -> str:
        return value.strftime("%H:%M")


class SlotSerializer(StrictSerializerMixin, serializers.Serializer):
    """A reminder time: the kind of session and its local wall-clock time."""

    kind = serializers.ChoiceField(choices=SlotKind.choices)
    time = HourMinuteField(help_text="Local time, HH:MM")

    def to_internal_value(self, data):
        # A PATCH replaces the slots whole, so a slot needs both fields even then (DRF would
        # otherwise pass the partial update down and let a slot without a kind through).
        if isinstance(data, dict):
            missing = [name for name in self.fields if name not in data]
            if missing:
                raise serializers.ValidationError(
                    {name: ["This field is required."] for name in missing}
                )
        return super().to_internal_value(data)


class ProtocolSerializer(serializers.ModelSerializer):
    steps = serializers.ListField(child=serializers.CharField())
    cautions = serializers.ListField(child=serializers.CharField())
    default_slots = serializers.SerializerMethodField()

    class Meta:
        model = Protocol
        fields = [
            "slug",
            "name",
            "summary",
            "steps",
            "cautions",
            "default_slots",
            "range_limit_degrees",
            "heat_prep_minutes",
            "version",
        ]

    @extend_schema_field(SlotSerializer(many=True))
    def get_default_slots(self, protocol: Protocol) -> list[dict]:
        return protocol.default_slots


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ["status", "effective_at", "reason", "recorded_by"]


class HistoryEntrySerializer(serializers.Serializer):
    """One change of a prescription (prescriptions.history)."""

    at = serializers.DateTimeField(help_text="When the change was recorded.")
    actor = serializers.SerializerMethodField(help_text="User id; null when the system acted.")
    change = serializers.ChoiceField(choices=["created", "plan", "paused", "resumed", "ended"])
    reason = serializers.CharField(allow_null=True)
    effective_at = serializers.DateTimeField(
        allow_null=True,
        help_text="For created, paused, resumed and ended: the instant it took effect "
        "(a change may be recorded for an earlier instant).",
    )
    fields = serializers.DictField(
        child=serializers.ListField(min_length=2, max_length=2),
        allow_null=True,
        help_text="For `plan`: each field that changed as [before, after] (slots, "
        "start_date, end_date, heat_prep, as_needed, notes).",
    )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_actor(self, entry) -> int | None:
        return entry["actor"].id if entry["actor"] else None


class PrescriptionSerializer(serializers.ModelSerializer):
    protocol = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    status = serializers.ChoiceField(
        choices=Prescription.Status.choices,
        source="current_status",
        read_only=True,
        help_text="Ended once the patient's local day after `end_date` has begun.",
    )
    slots = SlotSerializer(many=True, read_only=True)
    history = StatusChangeSerializer(
        source="status_changes",
        many=True,
        read_only=True,
        help_text="Every status the prescription took, and from which instant.",
    )

    class Meta:
        model = Prescription
        fields = [
            "id",
            "patient",
            "protocol",
            "clinician",
            "status",
            "start_date",
            "end_date",
            "slots",
            "as_needed",
            "heat_prep",
            "notes",
            "history",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _validate_slots(slots: list[dict]) -> list[dict]:
    kinds = [slot["kind"] for slot in slots]
    if len(kinds) != len(set(kinds)):
        raise serializers.ValidationError("Give at most one slot of each kind.")
    return slots


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def start_within_a_year(start: date, patient: Patient) -> date:
    """The one rule on a start date, for a new prescription and a changed one alike: up to
    a year in the past (a plan already under way) and at most a year ahead."""
    today = local_today(patient.zone)
    if start < _years_before(today, 1):
        raise serializers.ValidationError("The start may lie at most a year in the past.")
    if start > _years_before(today, -1):
        raise serializers.ValidationError("The start may lie at most a year ahead.")
    return start


class PrescriptionWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """A new prescription (POST); PATCH uses PrescriptionChangeSerializer."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.none())
    protocol = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Protocol.objects.all(),
        required=False,
        help_text="Protocol slug; knee-rocks when omitted.",
    )
    start_date = LocalDateField(
        required=False, help_text="Local date; today in the patient's zone when omitted."
    )
    end_date = LocalDateField(required=False, allow_null=True)
    slots = SlotSerializer(
        many=True,
        required=False,
        help_text="One per kind; the protocol's default slots when omitted.",
    )
    as_needed = StrictBooleanField(required=False, default=True)
    heat_prep = StrictBooleanField(required=False, default=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A patient out of the caller's reach reads as one that does not exist.
        self.fields["patient"].queryset = patients_in_reach(user)
        # What other apps add to prescribing (the questionnaires to ask for, …).
        for item in extensions.prescribe_inputs():
            self.fields[item.name] = item.api_field()

    def validate_slots(self, slots):
        return _validate_slots(slots)

    def validate(self, attrs):
        attrs["inputs"] = {
            item.name: attrs.pop(item.name)
            for item in extensions.prescribe_inputs()
            if item.name in attrs
        }
        start = attrs.setdefault("start_date", local_today(attrs["patient"].zone))
        try:
            start_within_a_year(start, attrs["patient"])
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"start_date": error.detail}) from None
        end = attrs.get("end_date")
        if end is not None and end < start:
            raise serializers.ValidationError(
                {"end_date": ["The end date cannot be before the start date."]}
            )
        if "protocol" not in attrs:
            attrs["protocol"] = Protocol.objects.get(slug="knee-rocks")
        return attrs


class PrescriptionChangeSerializer(StrictSerializerMixin, serializers.Serializer):
    start_date = LocalDateField(required=False)
    end_date = LocalDateField(required=False, allow_null=True)
    slots = SlotSerializer(many=True, required=False)
    as_needed = StrictBooleanField(required=False)
    heat_prep = StrictBooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)

    def validate_slots(self, slots):
        return _validate_slots(slots)

    def validate_start_date(self, start: date) -> date:
        return start_within_a_year(start, self.instance.patient)


class PrescriptionStatusChangeSerializer(StrictSerializerMixin, serializers.Serializer):
    effective = OffsetDateTimeField(
        required=False,
        help_text="When the change took effect, with its offset; now when omitted.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


# An instant as every answer renders it (UTC, `Z`), for answers written out by hand.
INSTANT = serializers.DateTimeField()


class CheckInSerializer(serializers.ModelSerializer):
    red_flags = serializers.ListField(child=serializers.ChoiceField(choices=RedFlag.choices))
    advice = serializers.SerializerMethodField()

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "prescription",
            "patient",
            "slot",
            "performed_at",
            "local_date",
            "duration_minutes",
            "pain_before",
            "pain_after",
            "heat_used",
            "notes",
            "red_flags",
            "advice",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "performed_at": {"help_text": "Rendered with the patient's local offset."},
            "local_date": {"help_text": "The patient's local date the session counts for."},
        }

    def get_advice(self, checkin: CheckIn) -> str | None:
        return checkin.advice or None

    def to_representation(self, checkin: CheckIn) -> dict:
        # Written out rather than through the fields above (kept for the schema): building
        # them, by model introspection and deep copies, cost more than the rest of the answer
        # of a check-in POST (bench/RESULTS.md).
        return {
            "id": checkin.id,
            "prescription": checkin.prescription_id,
            "patient": checkin.patient_id,
            "slot": checkin.slot,
            "performed_at": checkin.performed_at.astimezone(checkin.patient.zone).isoformat(),
            "local_date": checkin.local_date.isoformat(),
            "duration_minutes": checkin.duration_minutes,
            "pain_before": checkin.pain_before,
            "pain_after": checkin.pain_after,
            "heat_used": checkin.heat_used,
            "notes": checkin.notes,
            "red_flags": list(checkin.red_flags),
            "advice": self.get_advice(checkin),
            "created_at": INSTANT.to_representation(checkin.created_at),
        }


class PatientPrescriptionField(serializers.PrimaryKeyRelatedField):
    """A prescription id of the signed-in patient (the serializer's `patient_user`), read
    with the row lock checkin_record_locked needs: whether it is theirs and the lock in
    one query, validated inside the check-in's transaction (idempotency.respond_once).
    Answers as PrimaryKeyRelatedField does."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Prescription.objects.none(), **kwargs)

    def to_internal_value(self, data):
        try:
            if isinstance(data, bool):
                raise TypeError
            found = services.patient_prescription_locked(pk=data, user=self.parent.patient_user)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if found is None:
            self.fail("does_not_exist", pk_value=data)
        return found


class CheckInWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    prescription = PatientPrescriptionField()
    slot = serializers.ChoiceField(choices=CheckInSlot.choices)
    performed_at = OffsetDateTimeField(help_text="ISO 8601 with its UTC offset.")
    pain_before = StrictIntegerField(min_value=0, max_value=10)
    pain_after = StrictIntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    duration_minutes = StrictIntegerField(
        min_value=1, max_value=60, required=False, allow_null=True
    )
    heat_used = StrictBooleanField(required=False, default=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    red_flags = serializers.ListField(
        child=serializers.ChoiceField(choices=RedFlag.choices), required=False, default=list
    )

    def __init__(self, *args, patient_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient_user = patient_user

    def validate_red_flags(self, flags: list[str]) -> list[str]:
        if len(flags) != len(set(flags)):
            raise serializers.ValidationError("Each red flag may be given once.")
        return flags
