"""Thin tasks over webhooks.sending; the database, not the broker, says what is due."""

from celery import shared_task
from django.utils import timezone

from webhooks import sending

SWEEP_CHUNK = 50


@shared_task(bind=True)
def deliver(self, delivery_ids: list[int]) -> None:
    """Tries each of these deliveries that is due and free. A retry due within the minute
    is queued for its moment (the sweep would find it too, up to its period later), on
    the queue this task came from (the workers that serve it)."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    for delivery_id, wait in sending.deliver(delivery_ids):
        deliver.apply_async([[delivery_id]], countdown=wait.total_seconds(), queue=queue)


@shared_task
def sweep() -> None:
    """Queues what is due and held by nobody: retries, and anything a worker lost."""
    due = sending.due(timezone.now())
    for start in range(0, len(due), SWEEP_CHUNK):
        deliver.delay(due[start : start + SWEEP_CHUNK])
