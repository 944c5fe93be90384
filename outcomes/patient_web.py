"""The patient's questionnaire pages: the card on /my/ (through prescriptions.extensions), the
answer page when signed in, and the page a reminder's link opens without signing in.

Both answer pages write through services.questionnaire_response_create, so a bad answer is
refused as on the API: a 400 naming the item, nothing stored.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from clinic.audit import Action, audit_record
from outcomes import links, plain_words, schedules, services
from outcomes.answers import AnswersInvalid, labels_of
from outcomes.models import Questionnaire
from patients.models import Patient
from prescriptions.extensions import ReminderLink
from prescriptions.patient_web import patient_required
from prescriptions.reminders import site_url
from prescriptions.schedule import local_today

LABEL_SUFFIX = "_label"


class AnswersForm(forms.Form):
    """One field per item (a PSFS item also takes the activity's name, on the first
    response only). Ranges are left to outcomes.answers, which names the item at fault."""

    def __init__(self, *args, questionnaire: Questionnaire, baseline_labels, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = questionnaire.instrument
        self.baseline_labels = baseline_labels
        self.rows = []
        for item in self.instrument.items:
            fixed = None
            if item.label and baseline_labels is not None:
                fixed = baseline_labels.get(item.id)
                if fixed is None:
                    continue  # an activity not named at the start is not rated later
            if item.type == "choice":
                choices = [(o.value, o.text) for o in item.options]
            else:
                choices = [(n, str(n)) for n in range(item.min, item.max + 1)]
            self.fields[item.id] = forms.TypedChoiceField(
                choices=choices,
                coerce=int,
                required=item.required,
                widget=forms.RadioSelect,
                label=fixed or item.text,
            )
            name_field = None
            if item.label and baseline_labels is None:
                name_field = f"{item.id}{LABEL_SUFFIX}"
                self.fields[name_field] = forms.CharField(
                    required=False, max_length=100, label="The activity"
                )
            self.rows.append(
                {
                    "item": item,
                    "fixed_label": fixed,
                    "value": self[item.id],
                    "name": self[name_field] if name_field else None,
                }
            )

    def answers(self) -> list[dict]:
        answers = []
        for item in self.instrument.items:
            value = self.cleaned_data.get(item.id)
            label = (self.cleaned_data.get(f"{item.id}{LABEL_SUFFIX}") or "").strip()
            if value in (None, "") and not label:
                continue
            answer = {"item": item.id, "value": value}
            if label:
                answer["label"] = label
            answers.append(answer)
        return answers

    def add_faults(self, errors: dict[str, list[str]]) -> None:
        for key, problems in errors.items():
            field = key if key in self.fields else None
            for problem in problems:
                self.add_error(field, problem if field else f"{key}: {problem}")


def _form(request, patient: Patient, questionnaire: Questionnaire) -> AnswersForm:
    baseline = services.baseline_of(patient_id=patient.pk, questionnaire_id=questionnaire.pk)
    return AnswersForm(
        request.POST if request.method == "POST" else None,
        questionnaire=questionnaire,
        baseline_labels=None if baseline is None else labels_of(baseline.answers),
        prefix=questionnaire.slug,
    )


def _answer(form: AnswersForm, patient: Patient, questionnaire: Questionnaire) -> bool:
    """Stores the answers when they are good; else the form carries each fault."""
    if not form.is_valid():
        return False
    try:
        services.questionnaire_response_create(
            patient=patient,
            questionnaire=questionnaire,
            answers=form.answers(),
            created_by=patient.user,
        )
    except AnswersInvalid as invalid:
        form.add_faults(invalid.errors)
        return False
    return True


# --- Signed in: /my/questionnaires/<slug>/ ---------------------------------------------


@require_http_methods(["GET", "POST"])
@patient_required
def answer(request, patient, slug: str):
    due = {d.questionnaire.slug: d for d in schedules.due_questionnaires(patient)}
    questionnaire = due[slug].questionnaire if slug in due else None
    if questionnaire is None:
        # Not due: answered already, or never asked for. Said on the patient's page.
        messages.info(request, "There is nothing to answer there just now.")
        return redirect("patient-home")
    audit_record(request, patients=[patient.id], action=Action.READ)
    form = _form(request, patient, questionnaire)
    if request.method == "POST" and _answer(form, patient, questionnaire):
        audit_record(request, patients=[patient.id], action=Action.CREATE)
        messages.success(request, f"Thank you: your answers to “{questionnaire.name}” are saved.")
        return redirect("patient-home")
    return render(
        request,
        "outcomes/answer.html",
        {"patient": patient, "questionnaire": questionnaire, "form": form, "action": request.path},
        status=400 if form.errors else 200,
    )


# --- From a reminder's link, signed out: /q/<token>/ -------------------------------------


def _link_due(token: str):
    found = links.questionnaire_patient_date(token)
    if found is None:
        return None, None, "invalid"
    patient_id, due_date = found
    patient = Patient.objects.select_related("user").filter(id=patient_id).first()
    if patient is None:
        return None, None, "invalid"
    today = local_today(patient.zone)
    if due_date > today or today - due_date >= schedules.DUE_FOR:
        return patient, [], "expired"
    due = [d for d in schedules.due_questionnaires(patient, today) if d.due_date == due_date]
    return patient, due, None


# The signed link is the credential (as the check-in link's: prescriptions/patient_web/
# public.py), and a CSRF refusal would throw away what the patient entered in a browser
# that drops cookies.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def answer_from_link(request, token: str):
    patient, due, refused = _link_due(token)
    if refused:
        return render(request, "outcomes/link_unusable.html", {"reason": refused})
    audit_record(request, patients=[patient.id], action=Action.READ)
    if not due:
        return render(request, "outcomes/link_done.html", {"patient": patient})
    questionnaire = due[0].questionnaire
    if request.method == "POST":
        wanted = request.POST.get("questionnaire")
        match = [d.questionnaire for d in due if d.questionnaire.slug == wanted]
        if not match:
            # Answered meanwhile (another tab): show what is left.
            return redirect(request.path)
        questionnaire = match[0]
    form = _form(request, patient, questionnaire)
    if request.method == "POST" and _answer(form, patient, questionnaire):
        audit_record(request, patients=[patient.id], action=Action.CREATE)
        return redirect(request.path)
    return render(
        request,
        "outcomes/answer.html",
        {
            "patient": patient,
            "questionnaire": questionnaire,
            "form": form,
            "action": request.path,
            "left": len(due),
        },
        status=400 if form.errors else 200,
    )


def link_url(patient_id: int, due_date) -> str:
    token = links.questionnaire_token(patient_id, due_date)
    return site_url(reverse("questionnaire-link", args=[token]))


# --- Seams that prescriptions calls ------------------------------------------------------


def reminder_links(reminders) -> dict[int, ReminderLink]:
    """The link to the questionnaires falling due on each reminder's own day, still
    unanswered: they ride with that day's reminders, never in a message of their own.
    Three queries for the batch."""
    due = schedules.due_on_days(
        [(reminder.prescription.patient, reminder.local_date) for reminder in reminders]
    )
    return {
        reminder.id: ReminderLink(
            "A few questions from your clinic, a minute each",
            link_url(reminder.prescription.patient_id, reminder.local_date),
            short="Questions",
        )
        for reminder in reminders
        if any(
            d.due_date == reminder.local_date
            for d in due[reminder.prescription.patient_id, reminder.local_date]
        )
    }


def home_panel(request, patient) -> dict | None:
    due = schedules.due_questionnaires(patient)
    lines = plain_words.outcome_lines(patient)
    if not due and not lines:
        return None
    return {
        "template": "outcomes/_my_panel.html",
        "due": [
            {
                "questionnaire": d.questionnaire,
                "url": reverse("patient-questionnaire", args=[d.questionnaire.slug]),
            }
            for d in due
        ],
        "lines": lines,
    }
