"""Shared checks for the one-door tests: a service's change and its event commit together,
and a failure after the change, before the commit, leaves neither."""

from contextlib import contextmanager

import pytest
from django.db import transaction

from clinic import events
from clinic.models import Event


class Boom(Exception):
    """The failure injected after the change, before its commit."""


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_since(cursor: int) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in Event.objects.filter(id__gt=cursor).order_by("id")]


@contextmanager
def rolled_back():
    """Runs the block in a transaction that fails once the block is done (the service has
    made its change and written its event): nothing of it may remain."""
    cursor = last_event_id()
    with pytest.raises(Boom), transaction.atomic():
        yield
        raise Boom
    assert events_since(cursor) == []


def failing_event_writes(monkeypatch) -> None:
    """The event's write fails inside the service (after its change): the service's
    transaction must take the change back with it."""

    def boom(*args, **kwargs):
        raise Boom

    monkeypatch.setattr(events, "record", boom)
    monkeypatch.setattr(events, "record_each", boom)
