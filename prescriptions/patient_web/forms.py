"""The forms of the patient's own pages and of the pages their signed links open: signing
in, activating, checking in and correcting a check-in, reminder settings, time zone and
phone. They validate; the services act."""

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from rest_framework.throttling import SimpleRateThrottle

from clinic.forms import SignInForm
from clinic.zones import ZoneField
from patients.models import ReminderPreference
from patients.services import activation_code_find
from patients.validators import phone_validator
from prescriptions.models import CheckInSlot, RedFlag

PAIN_CHOICES = [(n, str(n)) for n in range(11)]

# The warning signs as a patient would say them; the stored values are RedFlag's.
RED_FLAG_QUESTIONS = {
    RedFlag.NUMBNESS_GROIN: "Numbness or tingling between your legs or around your bottom",
    RedFlag.BLADDER_BOWEL: "New trouble holding or passing urine, or controlling your bowels",
    RedFlag.LEG_WEAKNESS: "A leg that feels newly weak or gives way",
    RedFlag.FEVER: "A fever, or feeling hot and shivery",
    RedFlag.AFTER_FALL: "This pain started after a fall or an injury",
    RedFlag.WEIGHT_LOSS: "Losing weight without trying",
    RedFlag.NIGHT_PAIN_CONSTANT: "Bad pain at night that no position eases",
}


class CheckInForm(forms.Form):
    """One session: pain before and after (0 to 10), heat, and any warning signs."""

    pain_before = forms.TypedChoiceField(
        choices=PAIN_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how much it hurt before, from 0 to 10."},
    )
    pain_after = forms.TypedChoiceField(
        choices=PAIN_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
    )
    heat_used = forms.BooleanField(required=False)
    red_flags = forms.MultipleChoiceField(
        choices=list(RED_FLAG_QUESTIONS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class SessionDetailsForm(forms.Form):
    """What a patient may add on their own page: how long the session took, and a note."""

    duration_minutes = forms.IntegerField(
        min_value=1,
        max_value=60,
        required=False,
        error_messages={
            "min_value": "Give the minutes from 1 to 60, or leave it empty.",
            "max_value": "Give the minutes from 1 to 60, or leave it empty.",
            "invalid": "Give the minutes as a whole number from 1 to 60.",
        },
    )
    notes = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea,
        error_messages={"max_length": "A note has at most 2000 characters."},
    )


class PatientSignInForm(SignInForm):
    email = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput)
    locked_message = "Too many tries; wait a few minutes and try again."

    def username(self, data: dict) -> str:
        return data["email"].strip().lower()

    def refusal(self, user) -> str | None:
        if user is None or not user.is_patient:
            return (
                "That email and password do not match. If you have forgotten your password, "
                "choose “Forgot your password?” below."
            )
        return None


class ActivateForm(forms.Form):
    code = forms.CharField(max_length=64)
    password = forms.CharField(widget=forms.PasswordInput, max_length=128, strip=False)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        activation = activation_code_find(data["code"])
        if activation is None:
            raise forms.ValidationError(
                "This code does not work: it may have been used already or have run out. "
                "Your clinic can give you a new one."
            )
        try:
            validate_password(data["password"], user=activation.patient.user)
        except ValidationError as error:
            self.add_error("password", error)
        return data


class ActivateThrottle(SimpleRateThrottle):
    """The API's activation rate (per client address) for the page too."""

    scope = "activate"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WebCheckInForm(CheckInForm, SessionDetailsForm):
    slot = forms.ChoiceField(choices=CheckInSlot.choices)
    # One per form shown: a double submit of the same form stores one check-in.
    form_id = forms.UUIDField(widget=forms.HiddenInput)


class CheckInCorrectionForm(CheckInForm, SessionDetailsForm):
    """What a patient may put right in their check-in (checkins.CORRECTABLE): not the heat,
    and never the warning signs, which stay for the clinician."""

    slot = forms.ChoiceField(choices=CheckInSlot.choices)
    heat_used = None
    red_flags = None


class ReminderForm(forms.Form):
    channel = forms.ChoiceField(
        choices=ReminderPreference.Channel.choices,
        error_messages={"invalid_choice": "Choose one of the ways listed."},
    )
    quiet_start = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_end = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        # A webhook is an app's way in, set up through the API: offered here only to the
        # patient whose reminders already go that way, so that saving keeps it.
        preference = getattr(patient, "reminder_preference", None)
        if getattr(preference, "channel", None) != ReminderPreference.Channel.WEBHOOK:
            self.fields["channel"].choices = [
                choice
                for choice in ReminderPreference.Channel.choices
                if choice[0] != ReminderPreference.Channel.WEBHOOK
            ]

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give both ends of your quiet hours, or neither.")
        if start is not None and start == end:
            raise forms.ValidationError("Quiet hours need a different start and end.")
        channel = data.get("channel")
        if channel == ReminderPreference.Channel.WEBHOOK and not self.patient_webhook():
            self.add_error("channel", "Webhooks are set up through the app's API.")
        return data

    def patient_webhook(self) -> str:
        return getattr(getattr(self.patient, "reminder_preference", None), "webhook_url", "")


class ZoneAndPhoneForm(forms.Form):
    timezone = ZoneField(
        label="Time zone",
        error_messages={
            "required": "Choose your time zone from the list.",
            "invalid_choice": "Choose your time zone from the list, or type a place in it.",
        },
    )
    phone = forms.CharField(
        max_length=32,
        required=False,
        validators=[phone_validator],
        error_messages={"max_length": "A phone number has at most 32 characters."},
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        # A zone the patient set through the API stays on offer, if not canonical.
        self.fields["timezone"].hold(patient.timezone)
