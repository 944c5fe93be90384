from celery import shared_task

from clinic import invitations


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_invitation(invitation_id: int) -> None:
    """Emails an invitation's link; a mail server that is down is retried."""
    invitations.invitation_send(invitation_id=invitation_id)
