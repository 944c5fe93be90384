"""Forms of the patient's web pages; they validate, the services act."""

from django import forms

from prescriptions.models import RedFlag

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
