from celery import shared_task
from django.utils import timezone

from clinic.models import Heartbeat


@shared_task
def scheduler_heartbeat() -> None:
    """Proves beat and a worker are both alive: /healthz shows the last instant it ran."""
    Heartbeat.beat("scheduler", timezone.now())
