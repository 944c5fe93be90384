from datetime import datetime
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from clinic import events, sign_ins
from clinic.models import Clinic, User
from patients import tasks
from patients.activation import (  # noqa: F401  (callers find the codes' helpers here too)
    CODE_ALPHABET,
    CODE_LENGTH,
    activation_code_digest,
    activation_code_issue,
    activation_code_normalize,
    patient_pages_url,
)
from patients.models import ActivationCode, Patient, ReminderPreference, new_webhook_secret


class Enrolment(NamedTuple):
    patient: Patient
    activation_code: str
    activation_expires_at: datetime


def normalize_email(email: str) -> str:
    # Stored lower-case so that uniqueness and sign-in (username = email) ignore case.
    return email.strip().lower()


def email_taken(email: str, *, except_user_id: int | None = None) -> bool:
    users = User.objects.filter(username__iexact=email)
    patients = Patient.objects.filter(email__iexact=email)
    if except_user_id is not None:
        users = users.exclude(id=except_user_id)
        patients = patients.exclude(user_id=except_user_id)
    return users.exists() or patients.exists()


def activation_code_find(code: str) -> ActivationCode | None:
    """The code's row when it can still be used; None when unknown, used or expired."""
    return (
        ActivationCode.objects.select_related("patient__user")
        .filter(
            code_digest=activation_code_digest(code),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


@transaction.atomic
def patient_enrol(
    *,
    clinic: Clinic,
    enrolled_by: User,
    first_name: str,
    last_name: str,
    email: str,
    phone: str = "",
    timezone_name: str | None = None,
) -> Enrolment:
    """Creates the patient with an inactive sign-in, default reminders and a one-time code."""
    email = normalize_email(email)
    user = User(
        username=email,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=User.Role.PATIENT,
        clinic=clinic,
        is_active=False,
    )
    user.set_unusable_password()
    user.save()
    patient = Patient.objects.create(
        clinic=clinic,
        user=user,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        timezone=timezone_name or clinic.timezone,
        enrolled_by=enrolled_by,
    )
    ReminderPreference.objects.create(patient=patient)
    code, expires_at = activation_code_issue(patient=patient)
    events.record(events.Type.PATIENT_ENROLLED, clinic_id=clinic.id, patient=patient.id)
    return Enrolment(patient, code, expires_at)


@transaction.atomic
def patient_activate(*, code: str, password: str) -> User:
    """Spends the code and sets the patient's password; a code works exactly once."""
    now = timezone.now()
    digest = activation_code_digest(code)
    # The conditional UPDATE is the claim: of two racing requests only one sees a row count.
    claimed = ActivationCode.objects.filter(
        code_digest=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        raise ValidationError({"code": "This code is not valid or has already been used."})
    activation = ActivationCode.objects.select_related("patient__user").get(code_digest=digest)
    user = activation.patient.user
    if user.is_active:
        # A code for an active patient is a password reset (say, a lost phone): the devices
        # signed in with the old password are signed out.
        sign_ins.sign_ins_end(user=user)
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return user


ALREADY_ACTIVATED = (
    "This patient has already activated their account; they sign in with their email and password."
)


@transaction.atomic
def patient_invite(*, patient: Patient) -> None:
    """Emails a patient not yet activated a fresh code and the link to the activation page.

    Their earlier codes stop working now; the new one is made by the task that emails it,
    so that it never travels through the broker.
    """
    user = User.objects.select_for_update().only("is_active").get(id=patient.user_id)
    if user.is_active:
        raise ValidationError(ALREADY_ACTIVATED)
    ActivationCode.objects.filter(patient=patient, used_at__isnull=True).update(
        expires_at=timezone.now()
    )
    tasks.send_activation_email.delay_on_commit(patient.id)


PHONE_FOR_TEXTS = (
    "Reminders go to this number by text message: choose another way to be reminded before "
    "removing it."
)
NO_PHONE_FOR_TEXTS = "Add a phone number before choosing text messages."


def _patient_locked(patient_id: int) -> Patient:
    """The patient's row, locked until commit. Removing the phone and choosing text
    messages each take this lock before checking the other, so of two at the same instant
    the second sees the first."""
    return Patient.objects.select_for_update().only("id", "phone").get(id=patient_id)


@transaction.atomic
def patient_update(
    *,
    patient: Patient,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    timezone_name: str | None = None,
) -> Patient:
    """Changes the record; the email is also the username, so both move together.

    When the zone changes, expected sessions and reminder times follow it in this
    transaction: they live in an app this one does not import, which reads the
    patient.timezone_changed event (prescriptions/readers.py). A number that text-message
    reminders go to is not removed.
    """
    if phone == "":
        _patient_locked(patient.id)
        texted = ReminderPreference.objects.filter(
            patient=patient, channel=ReminderPreference.Channel.SMS
        )
        if texted.exists():
            raise ValidationError({"phone": PHONE_FOR_TEXTS})
    zone_changes = timezone_name is not None and timezone_name != patient.timezone
    user = patient.user
    if first_name is not None:
        patient.first_name = user.first_name = first_name
    if last_name is not None:
        patient.last_name = user.last_name = last_name
    if email is not None:
        patient.email = user.email = user.username = normalize_email(email)
    if phone is not None:
        patient.phone = phone
    if timezone_name is not None:
        patient.timezone = timezone_name
    user.save(update_fields=["first_name", "last_name", "email", "username"])
    patient.save()
    if zone_changes:
        # First: the plan that follows the zone writes the patient's ledger days, which every
        # writer takes before their stored clinic row (outdated by patient.updated's reader).
        events.record(
            events.Type.PATIENT_TIMEZONE_CHANGED, clinic_id=patient.clinic_id, patient=patient.id
        )
    events.record(events.Type.PATIENT_UPDATED, clinic_id=patient.clinic_id, patient=patient.id)
    return patient


@transaction.atomic
def patient_record_update(*, patient: Patient, channel: str | None = None, **record) -> Patient:
    """A clinician's change of a patient's details (patient_update) and reminder channel
    (reminder_preference_update) at once: all of it or none."""
    preference = None
    if channel is not None:
        preference, _ = ReminderPreference.objects.select_for_update().get_or_create(
            patient=patient
        )
    # Each service checks that text messages have a number: away from texts before the
    # number goes, onto texts after a new number is on file.
    leaving_texts = channel is not None and channel != ReminderPreference.Channel.SMS
    if leaving_texts:
        reminder_preference_update(preference=preference, changes={"channel": channel})
    patient = patient_update(patient=patient, **record)
    if channel is not None and not leaving_texts:
        reminder_preference_update(preference=preference, changes={"channel": channel})
    return patient


def calendar_feed_reset(*, patient: Patient) -> Patient:
    """A new secret calendar URL; the old one stops working at once."""
    Patient.objects.filter(id=patient.id).update(
        calendar_feed_version=models.F("calendar_feed_version") + 1
    )
    patient.refresh_from_db(fields=["calendar_feed_version"])
    return patient


@transaction.atomic
def reminder_preference_update(
    *, preference: ReminderPreference, changes: dict, rotate_webhook_secret: bool = False
) -> tuple[ReminderPreference, str | None]:
    """Saves validated preference changes; answers the new webhook secret when there is
    one (a new or changed webhook_url, or a rotation), which the caller shows once. Text
    messages need a phone number on file."""
    texts = changes.get("channel") == ReminderPreference.Channel.SMS
    if texts and not _patient_locked(preference.patient_id).phone:
        raise ValidationError({"channel": NO_PHONE_FOR_TEXTS})
    new_url = changes.get("webhook_url")
    url_changed = bool(new_url) and new_url != preference.webhook_url
    for field, value in changes.items():
        setattr(preference, field, value)
    new_secret = None
    if url_changed or rotate_webhook_secret:
        new_secret = new_webhook_secret()
        preference.webhook_secret = new_secret
    preference.save()
    return preference, new_secret


@transaction.atomic
def reminders_stop(*, patient: Patient) -> ReminderPreference:
    """No more reminders (channel none), as from the stop link in an email; the quiet hours
    and webhook stay as they were for when the patient turns reminders back on."""
    preference, _ = ReminderPreference.objects.select_for_update().get_or_create(patient=patient)
    preference, _ = reminder_preference_update(
        preference=preference, changes={"channel": ReminderPreference.Channel.NONE}
    )
    return preference


@transaction.atomic
def patient_archive(*, patient: Patient, by: User, reason: str = "") -> Patient:
    """The patient leaves the clinic's care: no more reminders or alerts, off the clinic's
    lists by default. Every record is kept and stays readable; `patient_restore` undoes it."""
    locked = Patient.objects.select_for_update().get(id=patient.id)
    if locked.archived_at is not None:
        raise ValidationError("This patient is already archived.")
    locked.archived_at = timezone.now()
    locked.archived_by = by
    locked.archive_reason = reason
    locked.save(update_fields=["archived_at", "archived_by", "archive_reason", "updated_at"])
    events.record(events.Type.PATIENT_ARCHIVED, clinic_id=locked.clinic_id, patient=locked.id)
    return locked


@transaction.atomic
def patient_restore(*, patient: Patient) -> Patient:
    """Back in care: reminders and alerts resume from now on."""
    locked = Patient.objects.select_for_update().get(id=patient.id)
    if locked.archived_at is None:
        raise ValidationError("This patient is not archived.")
    locked.archived_at = None
    locked.archived_by = None
    locked.archive_reason = ""
    locked.save(update_fields=["archived_at", "archived_by", "archive_reason", "updated_at"])
    # Back in care is a change of the patient's record (the contract has no "restored").
    events.record(events.Type.PATIENT_UPDATED, clinic_id=locked.clinic_id, patient=locked.id)
    return locked
