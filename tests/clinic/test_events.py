"""clinic.events: one place that lists the event types and appends an event, ids only,
append-only in the database too."""

import pytest
from django.db import DatabaseError, connection, transaction

from clinic import events, triggers
from clinic.models import Event

pytestmark = pytest.mark.django_db


def test_it_appends_an_event_with_ids_only(clinic_a):
    event = events.record(events.Type.PATIENT_ENROLLED, clinic_id=clinic_a.id, patient=7)

    stored = Event.objects.get(id=event.id)
    assert (stored.clinic_id, stored.type, stored.data) == (
        clinic_a.id,
        "patient.enrolled",
        {"patient": 7},
    )
    assert stored.at is not None


def test_the_contracts_event_types_are_all_defined():
    contract = {
        "patient.enrolled", "patient.updated", "patient.archived",
        "prescription.created", "prescription.changed", "prescription.paused",
        "prescription.resumed", "prescription.ended", "check_in.created",
        "alert.raised", "alert.acknowledged", "reminder.failed",
        "questionnaire_response.created",
    }  # fmt: skip
    assert contract <= events.TYPES


def test_it_refuses_a_type_nobody_defined(clinic_a):
    with pytest.raises(ValueError, match=r"clinic\.events\.Type"):
        events.record("patient.teleported", clinic_id=clinic_a.id, patient=1)
    assert not Event.objects.exists()


@pytest.mark.parametrize("value", ["Ada Moss", 3.5, True, {"id": 1}, ["x"]])
def test_its_data_holds_ids_and_nothing_else(clinic_a, value):
    with pytest.raises(TypeError):
        events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=value)
    assert not Event.objects.exists()


def test_ids_grow_in_the_order_events_are_written(clinic_a):
    written = [
        events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=n).id
        for n in range(5)
    ]
    assert written == sorted(written)
    assert len(set(written)) == 5


def test_many_at_once_are_one_insert(clinic_a, clinic_b, django_assert_num_queries, readers):
    # Without the readers (each costs what it reads: webhooks/fanout.py its own queries).
    rows = [(clinic_a.id, {"alert": 1}), (clinic_b.id, {"alert": 2})]
    with django_assert_num_queries(1):
        events.record_each(events.Type.ALERT_RAISED, rows)
    assert sorted(Event.objects.values_list("clinic_id", "data")) == sorted(rows)


def test_an_event_is_never_changed_or_deleted_in_the_database(clinic_a):
    event = events.record(events.Type.PATIENT_ARCHIVED, clinic_id=clinic_a.id, patient=1)
    for statement in (
        f"UPDATE {triggers.EVENTS} SET type = 'patient.updated' WHERE id = %s",
        f"DELETE FROM {triggers.EVENTS} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.id])
    assert Event.objects.get(id=event.id).type == "patient.archived"


@pytest.fixture
def readers(monkeypatch):
    """The registry emptied for one test, the product's own readers put back after."""
    monkeypatch.setattr(events, "READERS", [])
    return events.READERS


def test_a_reader_sees_the_event_inside_its_transaction(clinic_a, readers):
    seen = []
    events.read_by(
        events.Reader(
            "counts",
            types=frozenset({events.Type.CHECK_IN_CREATED}),
            in_transaction=lambda written: seen.extend(
                (e.type, transaction.get_connection().in_atomic_block) for e in written
            ),
        )
    )

    with transaction.atomic():
        events.record(events.Type.CHECK_IN_CREATED, clinic_id=clinic_a.id, check_in=1)
        events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=1)

    assert seen == [("check_in.created", True)]


def test_a_reader_after_commit_gets_ids_only_once_committed(
    clinic_a, readers, django_capture_on_commit_callbacks
):
    seen = []
    events.read_by(events.Reader("sends", after_commit=seen.extend))

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            event = events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=1)
            assert seen == []
        many = events.record_each(
            events.Type.ALERT_RAISED, [(clinic_a.id, {"alert": 1}), (clinic_a.id, {"alert": 2})]
        )

    assert seen == [event.id, *(e.id for e in many)]


def test_a_rolled_back_change_reaches_no_reader_after_commit(
    clinic_a, readers, django_capture_on_commit_callbacks
):
    seen = []
    events.read_by(events.Reader("sends", after_commit=seen.extend))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=1)
            raise RuntimeError
        kept = events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=2)

    assert len(callbacks) == 1
    assert seen == [kept.id]


def test_registering_a_reader_twice_keeps_one(readers):
    events.read_by(events.Reader("twice"))
    events.read_by(events.Reader("twice"))

    assert [reader.name for reader in readers] == ["twice"]
