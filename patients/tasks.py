from celery import shared_task

from patients import activation


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_activation_email(patient_id: int) -> None:
    """Emails a patient a fresh activation code; a mail server that is down is retried."""
    activation.activation_email_send(patient_id=patient_id)
