from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.api.validation import StrictSerializerMixin
from outcomes.models import Questionnaire, QuestionnaireResponse
from outcomes.selectors import response_outcome


def score_field(**kwargs):
    # Scores are kept as decimals of one place and answered as JSON numbers, as the
    # adherence figures are.
    return serializers.FloatField(**kwargs)


class OptionSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    text = serializers.CharField()


class ItemSerializer(serializers.Serializer):
    id = serializers.CharField()
    text = serializers.CharField(help_text="What the patient reads.")
    type = serializers.ChoiceField(choices=["integer", "choice"])
    min = serializers.IntegerField(help_text="The lowest value (for a choice, its lowest).")
    max = serializers.IntegerField(help_text="The highest value (for a choice, its highest).")
    options = OptionSerializer(many=True, allow_null=True, help_text="For a choice item.")
    required = serializers.BooleanField()
    label = serializers.BooleanField(
        help_text="The item takes a label the patient writes (PSFS: the activity), named in "
        "the first response and kept for later ones."
    )


class ScoringSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Questionnaire.Method.choices)
    higher_is_better = serializers.BooleanField()
    mcid = score_field(allow_null=True, help_text="The smallest change that matters.")
    min = score_field()
    max = score_field()


class QuestionnaireSerializer(serializers.ModelSerializer):
    items = serializers.SerializerMethodField()
    scoring = serializers.SerializerMethodField()

    class Meta:
        model = Questionnaire
        fields = ["slug", "name", "version", "description", "items", "scoring"]

    @extend_schema_field(ItemSerializer(many=True))
    def get_items(self, questionnaire: Questionnaire) -> list[dict]:
        return [
            {
                "id": item.id,
                "text": item.text,
                "type": item.type,
                "min": item.min,
                "max": item.max,
                "options": (
                    [{"value": o.value, "text": o.text} for o in item.options]
                    if item.options
                    else None
                ),
                "required": item.required,
                "label": item.label,
            }
            for item in questionnaire.instrument.items
        ]

    @extend_schema_field(ScoringSerializer)
    def get_scoring(self, questionnaire: Questionnaire) -> dict:
        rules = questionnaire.scoring
        return {
            "method": rules.method,
            "higher_is_better": rules.higher_is_better,
            "mcid": None if rules.mcid is None else float(rules.mcid),
            "min": float(rules.min),
            "max": float(rules.max),
        }


class AnswerSerializer(serializers.Serializer):
    item = serializers.CharField()
    value = serializers.IntegerField()
    label = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="Only where the item takes one; on a follow-up it may be left out and the "
        "first response's is kept.",
    )


@extend_schema_field(AnswerSerializer(many=True))
class AnswersField(serializers.JSONField):
    """Checked item by item against the instrument (outcomes.answers), so that each fault
    names its item rather than a position in the list."""


class QuestionnaireResponseWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    questionnaire = serializers.SlugRelatedField(
        slug_field="slug", queryset=Questionnaire.objects.all()
    )
    answers = AnswersField()


class QuestionnaireResponseSerializer(serializers.ModelSerializer):
    questionnaire = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    answers = serializers.SerializerMethodField()
    score = score_field()
    baseline_score = score_field(
        allow_null=True, help_text="The patient's first score; null for the PGIC."
    )
    change = score_field(
        allow_null=True, help_text="This score minus the baseline; null for the PGIC."
    )
    responder = serializers.BooleanField()

    class Meta:
        model = QuestionnaireResponse
        fields = [
            "id",
            "questionnaire",
            "patient",
            "answered_at",
            "answers",
            "score",
            "baseline_score",
            "change",
            "responder",
        ]
        read_only_fields = fields

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, response: QuestionnaireResponse) -> list[dict]:
        return response.answers

    def to_representation(self, response: QuestionnaireResponse) -> dict:
        response.__dict__.update(response_outcome(response))
        return super().to_representation(response)


class PointSerializer(serializers.Serializer):
    score = score_field()
    date = serializers.DateField(help_text="The patient's local date.")


class PatientOutcomeSerializer(serializers.Serializer):
    questionnaire = serializers.CharField()
    baseline = PointSerializer(allow_null=True, help_text="The first response; null for the PGIC.")
    latest = PointSerializer()
    change = score_field(allow_null=True)
    responder = serializers.BooleanField()
    series = PointSerializer(many=True)


class ClinicOutcomeSerializer(serializers.Serializer):
    questionnaire = serializers.CharField()
    patients_with_baseline = serializers.IntegerField()
    patients_followed_up = serializers.IntegerField(
        help_text="With a response 28 days or more after their baseline."
    )
    responders = serializers.IntegerField(help_text="Among the patients followed up.")
    responder_pct = score_field(allow_null=True)
    median_change = score_field(allow_null=True)


class ClinicOutcomePageSerializer(serializers.Serializer):
    """One page of the clinic's outcomes, as every list of the API answers."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ClinicOutcomeSerializer(many=True)
