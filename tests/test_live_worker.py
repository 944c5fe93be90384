import pytest
from django.db import transaction

from clinic.models import Heartbeat
from clinic.tasks import scheduler_heartbeat


@pytest.mark.celery_worker
def test_it_runs_a_task_enqueued_after_commit_in_a_separate_worker_process(live_worker):
    with transaction.atomic():
        scheduler_heartbeat.delay_on_commit()

    beat = live_worker.wait_for(lambda: Heartbeat.objects.filter(name="scheduler").first())
    assert beat.at is not None
    assert "scheduler_heartbeat" in live_worker.log()
