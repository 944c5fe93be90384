"""Forms of the clinic team's pages: they validate what a person typed, as the API's
serializers do; the services (the same ones the API calls) then act, and a rule only the
service can check (an overlapping prescription, an instant before the last change) comes
back onto the field it names."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from clinic.api.validation import LocalDateField
from clinic.templatetags.zones import zone_label
from clinic.zones import ZoneField
from patients import services as patient_services
from patients.validators import phone_validator
from prescriptions import adherence
from prescriptions.adherence import ORDERINGS
from prescriptions.models import Protocol, SlotKind

# The browser's own pickers; the values travel as ISO dates and HH:MM.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

NOTE_MAX = 2000
REASON_MAX = 200
PLAN_NOTES_MAX = 4000


def service_errors_onto(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError shown beside the field it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- The clinic table ---------------------------------------------------------------------

SHOW_CHOICES = [
    ("", "Everyone"),
    ("open_alerts", "Open alerts"),
    ("red_flag", "Red flag"),
    ("paused", "Paused"),
    ("not_activated", "Not yet activated"),
    ("low_adherence", "Low adherence"),
    ("archived", "Archived"),
]


RANGE_BACK_TO_FRONT = "The first day (From) must not be after the last day (To)."


class RangeForm(forms.Form):
    """`from` and `to` local dates, both optional, with the API's rules and defaults."""

    def __init__(self, data=None, *, today: date, **kwargs):
        super().__init__(data, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        data["range"] = None
        if "from" in self.errors or "to" in self.errors:
            return data
        if start is not None and end is not None and start > end:
            # The API's message names its parameters in backticks; a page says it in words.
            self.add_error("from", RANGE_BACK_TO_FRONT)
            return data
        try:
            data["range"] = adherence.resolve_range(self.today, start, end)
        except ValidationError as error:
            service_errors_onto(self, error)
        # Whether the person chose the dates, or the defaults apply.
        data["chosen"] = start is not None or end is not None
        return data


# `from` is a Python keyword: the field is added by name (as the API's serializer does).
def _range_end(label: str) -> forms.DateField:
    """Within the API's bounds: a date at the calendar's edge (year 1, year 9999) would
    overflow the day arithmetic of the range."""
    message = LocalDateField.default_error_messages["out_of_range"]
    bounds = [
        MinValueValidator(LocalDateField.first, message),
        MaxValueValidator(LocalDateField.last, message),
    ]
    return forms.DateField(required=False, label=label, validators=bounds)


RangeForm.base_fields["from"] = _range_end("From")
RangeForm.base_fields["to"] = _range_end("To")


class ClinicTableForm(RangeForm):
    q = forms.CharField(required=False, max_length=100, label="Search")
    show = forms.ChoiceField(required=False, choices=SHOW_CHOICES, label="Show")
    sort = forms.ChoiceField(
        required=False,
        choices=[(o, o) for name in sorted(ORDERINGS) for o in (name, f"-{name}")],
    )
    page = forms.IntegerField(required=False, min_value=1)


# --- Patients -----------------------------------------------------------------------------


class PatientDetailsForm(forms.Form):
    """Who the patient is and where they live: enrolment's fields, and the edit page's."""

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(max_length=254, help_text="Also the patient's username.")
    phone = forms.CharField(
        max_length=32,
        required=False,
        validators=[phone_validator],
        help_text="Optional; needed for text-message reminders.",
    )
    timezone = ZoneField(
        label="Time zone",
        help_text="Where the patient lives: reminders and their dates follow its clock.",
    )
    # The patient whose details these are; None while enrolling.
    patient = None

    def clean_email(self):
        email = patient_services.normalize_email(self.cleaned_data["email"])
        keep = self.patient.user_id if self.patient is not None else None
        if patient_services.email_taken(email, except_user_id=keep):
            raise ValidationError("This email is already in use.")
        return email


class EnrolForm(PatientDetailsForm):
    """A new patient's details; the service makes their account and activation code."""


class PatientEditForm(PatientDetailsForm):
    """A patient's details and how they are reminded, as the clinic corrects them."""

    channel = forms.ChoiceField(label="Reminders by")

    def __init__(self, *args, patient, webhook: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        # A zone the patient holds that the list leaves out (an alias set through the API)
        # stays offered, so the other details can be corrected without changing it.
        self.fields["timezone"].hold(patient.timezone)
        # A webhook needs the patient's own address, which only they set (in the API).
        offered = ["email", "sms", *(["webhook"] if webhook else []), "none"]
        self.fields["channel"].choices = [(c, CHANNEL_LABELS[c]) for c in offered]


CHANNEL_LABELS = {
    "email": "Email",
    "sms": "Text message",
    "webhook": "The patient's webhook",
    "none": "No reminders",
}


# --- Prescriptions ------------------------------------------------------------------------


class PlanForm(forms.Form):
    """The plan of a prescription: its slots, preparation, night sessions, end and notes."""

    morning = forms.BooleanField(required=False, label="Morning, before getting up")
    morning_time = forms.TimeField(required=False, label="Morning time", widget=TIME)
    bedtime = forms.BooleanField(required=False, label="Bedtime")
    bedtime_time = forms.TimeField(required=False, label="Bedtime time", widget=TIME)
    heat_prep = forms.BooleanField(
        required=False,
        label="Heat first",
        help_text="About 10 minutes of moist heat on the low back; the bedtime reminder "
        "comes early to allow for it.",
    )
    as_needed = forms.BooleanField(
        required=False,
        label="Invite night sessions",
        help_text="When back pain wakes the patient at night.",
    )
    end_date = forms.DateField(required=False, label="Last day (optional)", widget=DATE)
    notes = forms.CharField(
        required=False, max_length=PLAN_NOTES_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, start: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.start = start

    def clean(self):
        data = super().clean()
        slots = []
        for kind in SlotKind.values:
            if data.get(kind):
                at = data.get(f"{kind}_time")
                if at is None:
                    if f"{kind}_time" not in self.errors:
                        self.add_error(f"{kind}_time", "Give the time of this session.")
                    continue
                slots.append({"kind": kind, "time": at})
        if not slots and not self.errors:
            self.add_error(None, "Choose at least one time of day for the exercise.")
        data["slots"] = slots
        start = data.get("start_date", self.start)
        end = data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date cannot be before the start date.")
        return data


class PrescribeForm(PlanForm):
    start_date = forms.DateField(label="First day", widget=DATE)
    field_order = ["start_date", "end_date"]

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_start_date(self):
        # As the API: up to a year in the past (a plan under way), at most a year ahead.
        start = self.cleaned_data["start_date"]
        if start < _years_from(self.today, -1):
            raise ValidationError("The start may lie at most a year in the past.")
        if start > _years_from(self.today, 1):
            raise ValidationError("The start may lie at most a year ahead.")
        return start


def plan_initial(protocol: Protocol) -> dict:
    slots = {slot["kind"]: time.fromisoformat(slot["time"]) for slot in protocol.default_slots}
    initial = {"as_needed": True}
    for kind in SlotKind.values:
        initial[kind] = kind in slots
        initial[f"{kind}_time"] = slots.get(kind, time(7) if kind == "morning" else time(22))
    return initial


class StatusChangeForm(forms.Form):
    """Pause, resume or end: now, or from a moment already past in the patient's day."""

    effective = forms.DateTimeField(
        required=False,
        label="When",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    reason = forms.CharField(required=False, max_length=REASON_MAX)

    def __init__(self, *args, tz: ZoneInfo, reason_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz
        self.fields[
            "effective"
        ].help_text = f"The patient's local time ({zone_label(tz)}); leave empty for now."
        # Ending cannot be undone: the clinician says why, and the history keeps it.
        reason = self.fields["reason"]
        reason.required = reason_required
        reason.label = "Reason" if reason_required else "Reason (optional)"
        reason.error_messages["required"] = "Say why, for the prescription's history."

    def clean_effective(self) -> datetime | None:
        value = self.cleaned_data["effective"]
        if value is None:
            return None
        # What a person types is the patient's wall clock, not the server's.
        return value.replace(tzinfo=None).replace(tzinfo=self.tz)


class ArchiveForm(forms.Form):
    """The patient leaves the clinic's care: why, kept with the record."""

    reason = forms.CharField(
        max_length=REASON_MAX,
        label="Reason",
        help_text="For example: discharged, moved away, stopped the exercise.",
        error_messages={"required": "Say why the patient leaves the clinic's care."},
    )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="Note",
        help_text="What you did (optional).",
        widget=forms.Textarea(attrs={"rows": 1}),
    )
