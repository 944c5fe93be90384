from celery import shared_task

from clinic import invitations, reset_links


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=3)
def send_password_reset(user_id: int | None) -> None:
    """Emails a password-reset link, made here so that it never passes through the broker.
    Queued for every request, known address or not (None sends nothing): the request's
    answer takes the same time either way. A mail server that is down is retried."""
    reset_links.password_reset_email_send(user_id=user_id)


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_invitation(invitation_id: int) -> None:
    """Emails an invitation's link; a mail server that is down is retried."""
    invitations.invitation_send(invitation_id=invitation_id)
