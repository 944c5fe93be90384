"""Activation codes: one-time, stored as their SHA-256 digest, and the email that brings a
patient a fresh one with the address of their pages. The emailed code is made by the task
that sends it (patients.tasks), so it never travels through the broker."""

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from patients.models import ActivationCode, Patient

# No 0/O, 1/I/L or 5/S look-alikes: the code is read aloud or copied from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXYZ2346789"
CODE_LENGTH = 10


def activation_code_normalize(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def activation_code_digest(code: str) -> str:
    return hashlib.sha256(activation_code_normalize(code).encode()).hexdigest()


@transaction.atomic
def activation_code_issue(*, patient: Patient) -> tuple[str, datetime]:
    """A fresh one-time code; earlier unused codes of the patient stop working."""
    now = timezone.now()
    ActivationCode.objects.filter(patient=patient, used_at__isnull=True).update(expires_at=now)
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = now + settings.ACTIVATION_CODE_TTL
    ActivationCode.objects.create(
        patient=patient, code_digest=activation_code_digest(raw), expires_at=expires_at
    )
    half = CODE_LENGTH // 2
    return f"{raw[:half]}-{raw[half:]}", expires_at


def patient_pages_url() -> str:
    """Where a patient's own pages are, said in words in every message about activation."""
    return f"{settings.SITE_URL}/my/"


@transaction.atomic
def activation_email_send(*, patient_id: int) -> bool:
    """Issues a code and emails it with the link; False when the patient activated in the
    meantime. A send that fails rolls the code back, and a retry issues another."""
    patient = Patient.objects.select_related("clinic", "user").get(id=patient_id)
    if patient.user.is_active:
        return False
    code, expires_at = activation_code_issue(patient=patient)
    link = f"{settings.SITE_URL}/my/activate/"
    until = expires_at.astimezone(patient.zone)
    body = "\n\n".join(
        [
            f"Hello {patient.first_name},",
            f"{patient.clinic.name} has set up your knee rocks exercise pages. Your pages are "
            f"at {patient_pages_url()}",
            f"To start, open {link} and type this code, then choose a password:",
            code,
            f"The code works once, until {until:%B %-d, %Y}. Afterwards you sign in at "
            f"{patient_pages_url()} with your email ({patient.email}) and that password.",
            "If you did not expect this email, you can ignore it.",
        ]
    )
    send_mail(
        f"Your knee rocks pages at {patient.clinic.name}",
        body + "\n",
        settings.DEFAULT_FROM_EMAIL,
        [patient.email],
    )
    return True
