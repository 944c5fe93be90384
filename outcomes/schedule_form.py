"""The clinician's form for which questionnaires a prescription asks for and when: a
fieldset of the prescribe page (through prescriptions.extensions) and the page that changes
it later. The same rules as the API (schedules.entry_faults)."""

from django import forms

from outcomes import schedules
from outcomes.models import Questionnaire, QuestionnaireSchedule


class ScheduleForm(forms.Form):
    """Per instrument loaded: ask for it or not, from which day, how often, on the last
    day too. Fields are named `<slug>`, `<slug>_first_day`, `<slug>_every_days`,
    `<slug>_at_end`."""

    def __init__(self, data=None, *, prefix="questionnaires", current=None):
        """`current`: the schedule rows to start from (a prescription's), else the
        defaults of a new prescription."""
        super().__init__(data, prefix=prefix)
        # The defaults first, in the order they are first asked (the PSFS at the start),
        # then the others by name.
        self.questionnaires = sorted(
            Questionnaire.objects.all(),
            key=lambda q: (
                q.slug not in schedules.DEFAULTS,
                schedules.DEFAULTS.get(q.slug, [0])[0],
                q.name,
            ),
        )
        chosen = (
            {row.questionnaire_id: row for row in current}
            if current is not None
            else {
                q.id: QuestionnaireSchedule(
                    questionnaire=q,
                    first_day=schedules.DEFAULTS[q.slug][0],
                    every_days=schedules.DEFAULTS[q.slug][1],
                    at_end=schedules.DEFAULTS[q.slug][2],
                )
                for q in self.questionnaires
                if q.slug in schedules.DEFAULTS
            }
        )
        # Present on every post of the page: a request without it (a script's, say) never
        # saw the checkboxes, so their absence does not mean "none" and the defaults apply.
        self.fields["shown"] = forms.BooleanField(
            required=False, initial=True, widget=forms.HiddenInput
        )
        self.rows = []
        for questionnaire in self.questionnaires:
            slug, row = questionnaire.slug, chosen.get(questionnaire.id)
            self.fields[slug] = forms.BooleanField(
                required=False, label=f"Ask for the {questionnaire.name}", initial=row is not None
            )
            self.fields[f"{slug}_first_day"] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=schedules.FIRST_DAY_MAX,
                label="From day",
                help_text="0 is the first day; empty: only on the last day.",
                initial=row.first_day if row else 0,
            )
            self.fields[f"{slug}_every_days"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=schedules.EVERY_DAYS_MAX,
                label="Then every (days)",
                help_text="Empty: once.",
                initial=row.every_days if row else 14,
            )
            self.fields[f"{slug}_at_end"] = forms.BooleanField(
                required=False, label="And on the last day", initial=row.at_end if row else True
            )
            self.rows.append(
                {
                    "questionnaire": questionnaire,
                    "ask": self[slug],
                    "timing": [self[f"{slug}_{name}"] for name in ("first_day", "every_days")],
                    "at_end": self[f"{slug}_at_end"],
                }
            )

    def clean(self):
        data = super().clean()
        for questionnaire in self.questionnaires:
            slug = questionnaire.slug
            if not data.get(slug):
                continue
            faults = schedules.entry_faults(
                first_day=data.get(f"{slug}_first_day"),
                every_days=data.get(f"{slug}_every_days"),
                at_end=bool(data.get(f"{slug}_at_end")),
            )
            for name, text in faults.items():
                self.add_error(f"{slug}_{name}", text)
        return data

    def value(self) -> list[dict] | None:
        """The chosen entries, as the schedule's services take them; None when the form was
        not on the page that posted."""
        data = self.cleaned_data
        if not data.get("shown"):
            return None
        return [
            {
                "questionnaire": questionnaire,
                "first_day": data[f"{questionnaire.slug}_first_day"],
                "every_days": data[f"{questionnaire.slug}_every_days"],
                "at_end": bool(data[f"{questionnaire.slug}_at_end"]),
            }
            for questionnaire in self.questionnaires
            if data.get(questionnaire.slug)
        ]


def prescribe_form(data, prefix: str) -> ScheduleForm:
    return ScheduleForm(data, prefix=prefix)
