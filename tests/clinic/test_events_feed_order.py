"""The event feed on PostgreSQL never skips an event that commits after a later id: ids
come from a sequence when the event is written, so a change that took id 10 may commit
after one that took id 11. The feed holds an event back while a transaction that could
precede it is still running (clinic.events.after). SQLite has one writer at a time."""

import queue
import threading

import pytest
from django.db import connection, transaction

from clinic import events
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/events/"


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids commit in order")


class Held:
    """A transaction on a connection of its own, kept open: `do` runs a step in it and
    answers what the step answered; `commit` ends it."""

    def __init__(self):
        self.jobs, self.results = queue.Queue(), queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            with transaction.atomic():
                while (job := self.jobs.get()) is not None:
                    self.results.put(job())
        except Exception as error:  # handed to the test, not lost in the thread
            self.results.put(error)
        finally:
            connection.close()

    def do(self, job):
        self.jobs.put(job)
        result = self.results.get(timeout=10)
        if isinstance(result, Exception):
            raise result
        return result

    def commit(self):
        self.jobs.put(None)
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def held():
    """Held transactions, each ended after the test whatever happened: one left open would
    keep the test database from being emptied."""
    made = []
    yield lambda: made.append(Held()) or made[-1]
    for transaction_held in made:
        if transaction_held.thread.is_alive():
            transaction_held.commit()


def event(clinic, patient):
    return events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic.id, patient=patient).id


def feed(client, after=0) -> list[int]:
    return [e["id"] for e in client.get(URL, {"after": after}).data["results"]]


def test_a_later_event_waits_for_an_earlier_one_still_uncommitted(clinic_a, clinician_a, held):
    client = client_for(clinician_a)
    first = held()
    earlier = first.do(lambda: event(clinic_a, 1))
    later = event(clinic_a, 2)  # committed at once
    assert earlier < later

    assert feed(client) == []  # the earlier id is still open: the later one waits for it
    first.commit()
    assert feed(client) == [earlier, later]


def test_a_lower_id_committed_after_a_higher_one_was_seen_is_answered_next(clinic_a, clinician_a):
    client = client_for(clinician_a)
    began_first, began_second = Held(), Held()
    first = began_first.do(lambda: event(clinic_a, 1))
    lower = began_second.do(lambda: event(clinic_a, 2))
    higher = began_first.do(lambda: event(clinic_a, 3))
    began_first.commit()
    assert first < lower < higher

    # Nothing can come before the first transaction's events any more: answered at once.
    seen = feed(client)
    assert seen == [first, higher]
    began_second.commit()
    # The poller carries on after `higher`, the last it saw, and still gets `lower`.
    assert feed(client, after=seen[-1]) == [lower]
    assert feed(client) == [first, higher, lower]
