from celery import shared_task

from clinic import reset_links


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=3)
def send_password_reset(user_id: int | None) -> None:
    """Emails a password-reset link, made here so that it never passes through the broker.
    Queued for every request, known address or not (None sends nothing): the request's
    answer takes the same time either way. A mail server that is down is retried."""
    reset_links.password_reset_email_send(user_id=user_id)
