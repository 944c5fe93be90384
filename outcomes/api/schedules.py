"""A prescription's questionnaire schedule, and the questionnaires due for the patient."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.validation import StrictSerializerMixin
from clinic.audit import Action, audit_record, audit_write
from clinic.permissions import CLINICIAN, EVERYONE, PATIENT, RolePermission
from outcomes import schedules
from outcomes.models import Questionnaire, QuestionnaireSchedule
from prescriptions.models import Prescription
from prescriptions.selectors import prescriptions_in_reach


class QuestionnaireScheduleSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    questionnaire = serializers.SlugRelatedField(
        slug_field="slug", queryset=Questionnaire.objects.all()
    )
    first_day = serializers.IntegerField(
        min_value=0,
        max_value=schedules.FIRST_DAY_MAX,
        allow_null=True,
        required=False,
        default=None,
        help_text="Days after the start date (0: the start); null: only at the end.",
    )
    every_days = serializers.IntegerField(
        min_value=1,
        max_value=schedules.EVERY_DAYS_MAX,
        allow_null=True,
        required=False,
        default=None,
        help_text="Then every so many days until the end; null: once.",
    )
    at_end = serializers.BooleanField(
        required=False, default=False, help_text="Also on the last day (end date, or ended)."
    )

    class Meta:
        model = QuestionnaireSchedule
        fields = ["questionnaire", "first_day", "every_days", "at_end"]
        # The whole list is checked for repeats instead (a PUT replaces it whole).
        validators = []

    def validate(self, attrs):
        faults = schedules.entry_faults(
            first_day=attrs.get("first_day"),
            every_days=attrs.get("every_days"),
            at_end=attrs.get("at_end", False),
        )
        if faults:
            raise serializers.ValidationError({name: [text] for name, text in faults.items()})
        return attrs


class ScheduleListSerializer(serializers.ListSerializer):
    child = QuestionnaireScheduleSerializer()

    def validate(self, entries):
        slugs = [entry["questionnaire"].slug for entry in entries]
        repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
        if repeated:
            raise serializers.ValidationError(
                f"Each questionnaire once: {', '.join(repeated)} is given twice."
            )
        return entries


def prescribe_field() -> ScheduleListSerializer:
    """The `questionnaires` of a new prescription (POST prescriptions/)."""
    return ScheduleListSerializer(
        required=False,
        help_text="Which questionnaires to ask for, and when; the PSFS at the start and "
        "every 14 days and the PGIC every 14 days from day 14, both on the last day too, "
        "when omitted; [] asks for none.",
    )


def _prescription(request, pk: int) -> Prescription:
    return get_object_or_404(prescriptions_in_reach(request.user).select_related("patient"), pk=pk)


def _rows(prescription: Prescription):
    return QuestionnaireSchedule.objects.filter(prescription=prescription).select_related(
        "questionnaire"
    )


class PrescriptionQuestionnairesView(APIView):
    """Which questionnaires the prescription asks its patient for, and when (days counted
    from its start date, in the patient's local dates). A new prescription starts with the
    PSFS at the start and every 14 days and the PGIC every 14 days from day 14, both also at
    the end. PUT replaces the whole list; an instrument left out is no longer asked for."""

    permission_classes = [RolePermission]
    read_roles = EVERYONE
    write_roles = {CLINICIAN}

    @extend_schema(responses=QuestionnaireScheduleSerializer(many=True))
    def get(self, request, pk: int):
        prescription = _prescription(request, pk)
        audit_record(request, patients=[prescription.patient_id], action=Action.READ)
        return Response(QuestionnaireScheduleSerializer(_rows(prescription), many=True).data)

    @extend_schema(
        request=QuestionnaireScheduleSerializer(many=True),
        responses=QuestionnaireScheduleSerializer(many=True),
    )
    def put(self, request, pk: int):
        prescription = _prescription(request, pk)
        serializer = ScheduleListSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            schedules.questionnaire_schedule_replace(
                prescription=prescription, entries=serializer.validated_data
            )
            audit_write(request, patients=[prescription.patient_id], action=Action.UPDATE)
        return Response(QuestionnaireScheduleSerializer(_rows(prescription), many=True).data)


class DueQuestionnaireSerializer(serializers.Serializer):
    questionnaire = serializers.CharField(help_text="The instrument's slug.")
    due_date = serializers.DateField(help_text="The scheduled date reached (patient's local).")
    prescription = serializers.IntegerField()


class MyQuestionnairesView(APIView):
    """The questionnaires due now: a scheduled date reached in the patient's local date
    and no response to the instrument since; each stays due for 14 days."""

    permission_classes = [RolePermission]
    read_roles = {PATIENT}

    @extend_schema(responses=DueQuestionnaireSerializer(many=True))
    def get(self, request):
        patient = request.user.patient
        audit_record(request, patients=[patient.id], action=Action.READ)
        due = schedules.due_questionnaires(patient)
        return Response(
            DueQuestionnaireSerializer(
                [
                    {
                        "questionnaire": d.questionnaire.slug,
                        "due_date": d.due_date,
                        "prescription": d.prescription_id,
                    }
                    for d in due
                ],
                many=True,
            ).data
        )
