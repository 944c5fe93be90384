from decimal import Decimal

from django.conf import settings
from django.db import models

from outcomes.definitions import Instrument, Item, Option, Scoring


class Questionnaire(models.Model):
    """An instrument as data (outcomes.definitions): loaded from JSON by a migration for the
    shipped ones and by `manage.py load_questionnaire` for a clinic's own."""

    class Method(models.TextChoices):
        MEAN = "mean"
        SUM = "sum"
        PERCENT_OF_MAX = "percent_of_max"
        SINGLE = "single"

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    description = models.TextField(blank=True)
    # [{id, text, type, min, max, options, required, label}], checked by
    # outcomes.definitions.parse_instrument before it is stored.
    items = models.JSONField()
    scoring_method = models.CharField(max_length=16, choices=Method.choices)
    higher_is_better = models.BooleanField()
    # The minimal clinically important difference; null for an instrument that rates change
    # itself and names its responder values instead.
    mcid = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    score_min = models.DecimalField(max_digits=6, decimal_places=1)
    score_max = models.DecimalField(max_digits=6, decimal_places=1)
    min_answered = models.PositiveSmallIntegerField(default=1)
    responder_values = models.JSONField(default=list, blank=True)
    # The instrument's identity in FHIR (Questionnaire.url).
    canonical_url = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def instrument(self) -> Instrument:
        cached = self.__dict__.get("_instrument")
        if cached is None:
            cached = self.__dict__["_instrument"] = Instrument(
                slug=self.slug,
                name=self.name,
                version=self.version,
                description=self.description,
                canonical_url=self.canonical_url,
                items=tuple(_item(data) for data in self.items),
                scoring=self.scoring,
            )
        return cached

    @property
    def scoring(self) -> Scoring:
        return Scoring(
            method=self.scoring_method,
            higher_is_better=self.higher_is_better,
            mcid=None if self.mcid is None else Decimal(self.mcid),
            min=Decimal(self.score_min),
            max=Decimal(self.score_max),
            min_answered=self.min_answered,
            responder_values=tuple(self.responder_values),
        )


def _item(data: dict) -> Item:
    options = tuple(Option(o["value"], o["text"]) for o in data.get("options", ()))
    values = [o.value for o in options]
    return Item(
        id=data["id"],
        text=data["text"],
        type=data["type"],
        min=min(values) if options else data["min"],
        max=max(values) if options else data["max"],
        required=data["required"],
        label=data.get("label", False),
        options=options,
    )


def questionnaire_fields(instrument: Instrument) -> dict:
    """The columns that hold an instrument (the load command's; migration 0002 keeps its
    own copy, frozen with the schema it wrote)."""
    scoring = instrument.scoring
    return {
        "name": instrument.name,
        "version": instrument.version,
        "description": instrument.description,
        "items": [item.as_json() for item in instrument.items],
        "scoring_method": scoring.method,
        "higher_is_better": scoring.higher_is_better,
        "mcid": scoring.mcid,
        "score_min": scoring.min,
        "score_max": scoring.max,
        "min_answered": scoring.min_answered,
        "responder_values": list(scoring.responder_values),
        "canonical_url": instrument.canonical_url,
    }


class QuestionnaireResponse(models.Model):
    """One completed questionnaire, scored when it was answered. Kept for good: a score
    reported to a payer must stay what it was."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_responses"
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="responses"
    )
    # The instrument's version the answers were scored by.
    questionnaire_version = models.PositiveIntegerField()
    answered_at = models.DateTimeField()
    # [{item, value, label}] in the instrument's item order (label null where an item
    # takes none).
    answers = models.JSONField()
    score = models.DecimalField(max_digits=6, decimal_places=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answered_at", "id"]
        indexes = [
            # The baseline (first) and latest of a patient's responses to an instrument.
            models.Index(
                fields=["patient", "questionnaire", "answered_at", "id"],
                name="response_patient_instrument",
            )
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire_id} of patient {self.patient_id} at {self.answered_at}"


class QuestionnaireSchedule(models.Model):
    """When a prescription asks its patient for an instrument: on day `first_day` of the
    prescription and every `every_days` after (once, when null), up to its end; and on its
    end date too when `at_end`. No row for an instrument: it is never asked."""

    prescription = models.ForeignKey(
        "prescriptions.Prescription",
        on_delete=models.CASCADE,
        related_name="questionnaire_schedules",
    )
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    # Days after the prescription's start date (0: the start); null: only at the end.
    first_day = models.PositiveSmallIntegerField(null=True, blank=True)
    every_days = models.PositiveSmallIntegerField(null=True, blank=True)
    at_end = models.BooleanField(default=False)

    class Meta:
        ordering = ["prescription", "questionnaire__slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["prescription", "questionnaire"], name="one_schedule_per_instrument"
            ),
            models.CheckConstraint(
                condition=models.Q(every_days__isnull=True) | models.Q(every_days__gte=1),
                name="schedule_every_day_or_more",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire_id} on prescription {self.prescription_id}"
