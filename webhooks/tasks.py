"""Thin tasks over webhooks.sending; the database, not the broker, says what is due."""

from celery import shared_task
from django.utils import timezone

from webhooks import sending

# Deliveries one task posts, one after the other, under one lease (sending.deliver leaves
# the rest to the sweep once the lease is used up): a few seconds against a receiver that
# answers at once, inside WEBHOOK_LEASE_SECONDS against one that takes a second each.
BATCH = 50


@shared_task(bind=True)
def deliver(self, delivery_ids: list[int]) -> None:
    """Tries each of these deliveries that is due and free. A retry due within the minute
    is queued for its moment (the sweep would find it too, up to its period later), on
    the queue this task came from (the workers that serve it).

    More than BATCH ids (a transaction that wrote many events: the periodic alert rules)
    are split, the rest queued as tasks of their own: the worker's processes share them,
    and no lease runs out before its last post (the sweep would then post it again)."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    for start in range(BATCH, len(delivery_ids), BATCH):
        deliver.apply_async([delivery_ids[start : start + BATCH]], queue=queue)
    for delivery_id, wait in sending.deliver(delivery_ids[:BATCH]):
        deliver.apply_async([[delivery_id]], countdown=wait.total_seconds(), queue=queue)


@shared_task
def sweep() -> None:
    """Queues what is due and held by nobody: retries, and anything a worker lost."""
    due = sending.due(timezone.now())
    for start in range(0, len(due), BATCH):
        deliver.delay(due[start : start + BATCH])
