"""What the prescriptions app does when an event is written (prescriptions/readers.py): the
stored clinic rows of the patients it names are outdated, a patient's new zone moves their
plan in the same transaction, a red flag's alert emails the clinician once committed."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from clinic import events
from patients.models import Patient
from patients.services import patient_update
from prescriptions import adherence, checkins, services
from prescriptions.adherence import ledger
from prescriptions.models import Alert, ClinicRowVersion, PrescriptionSlot, ScheduleChange
from tests.events_support import Boom, events_since, last_event_id, rolled_back
from tests.factories import PatientFactory, PrescriptionFactory, knee_rocks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)  # 08:00 in New York


def version(patient_id: int) -> int:
    row = ClinicRowVersion.objects.filter(patient_id=patient_id).first()
    return row.version if row else 0


@pytest.fixture
def rx(patient_a, clinician_a):
    return services.prescription_create(
        patient=patient_a,
        clinician=clinician_a,
        protocol=knee_rocks(),
        start_date=date(2026, 5, 1),
        slots=[{"kind": "morning", "time": time(7)}],
    )


# --- clinic rows ---------------------------------------------------------------------------


def test_the_events_of_many_patients_outdate_their_rows_in_one_statement(
    clinic_a, patient_a, other_patient, django_assert_num_queries, monkeypatch
):
    # The other readers (the webhooks' fan-out, …) set aside: the count is this reader's.
    monkeypatch.setattr(
        events, "READERS", [reader for reader in events.READERS if reader.name == "clinic rows"]
    )
    before = version(patient_a.id), version(other_patient.id)
    rows = [(clinic_a.id, {"patient": p.id, "alert": 1}) for p in (patient_a, other_patient)]

    with django_assert_num_queries(2):  # the events' insert, the rows' outdate
        events.record_each(events.Type.ALERT_RAISED, rows)

    assert (version(patient_a.id), version(other_patient.id)) == (before[0] + 1, before[1] + 1)


def test_a_change_the_row_does_not_show_outdates_nothing(clinic_a, patient_a):
    before = version(patient_a.id)

    events.record(events.Type.REMINDER_FAILED, clinic_id=clinic_a.id, patient=patient_a.id)

    assert version(patient_a.id) == before


def test_an_event_naming_no_patient_that_exists_fails_nothing(clinic_a):
    events.record(events.Type.PATIENT_UPDATED, clinic_id=clinic_a.id, patient=987654)

    assert not ClinicRowVersion.objects.filter(patient_id=987654).exists()


def test_a_check_in_outdates_its_patients_row_with_its_event(rx):
    before = version(rx.patient_id)

    checkins.checkin_record(
        prescription=rx, slot="morning", performed_at=NOW.replace(hour=11), pain_before=3
    )

    assert version(rx.patient_id) == before + 1


def test_a_ledger_rebuilt_outdates_the_rows_without_an_event(rx):
    before, cursor = version(rx.patient_id), last_event_id()

    ledger.ledger_rebuild(prescription_ids=[rx.id])

    assert version(rx.patient_id) == before + 1
    assert events_since(cursor) == []


# --- a patient's new zone ------------------------------------------------------------------


def plan(rx) -> tuple:
    slot = PrescriptionSlot.objects.get(prescription=rx)
    zones = list(
        ScheduleChange.objects.filter(prescription=rx)
        .order_by("effective_at", "id")
        .values_list("timezone", flat=True)
    )
    return zones, slot.next_fire_at


def test_a_zone_change_that_fails_before_commit_moves_neither_zone_nor_plan(rx):
    before = plan(rx)

    with rolled_back():
        patient_update(patient=rx.patient, timezone_name="Asia/Tokyo")
        # Inside the transaction the plan already follows the zone.
        assert plan(rx)[0][-1] == "Asia/Tokyo"

    assert Patient.objects.get(id=rx.patient_id).timezone == "America/New_York"
    assert plan(rx) == before


def test_a_plan_that_cannot_follow_leaves_the_zone_as_it_was(rx, monkeypatch):
    def boom(**kwargs):
        raise Boom

    monkeypatch.setattr(adherence, "schedule_change", boom)

    with pytest.raises(Boom):
        patient_update(patient=rx.patient, timezone_name="Asia/Tokyo")

    assert Patient.objects.get(id=rx.patient_id).timezone == "America/New_York"


def test_a_committed_zone_change_has_moved_the_plan(rx):
    patient_update(patient=rx.patient, timezone_name="Asia/Tokyo")

    zones, next_fire_at = plan(rx)
    assert zones == ["America/New_York", "Asia/Tokyo"]
    # The next morning at 07:00 in Tokyo: 11 May, 22:00 UTC the day before.
    assert next_fire_at.astimezone(ZoneInfo("Asia/Tokyo")).time() == time(7)
    assert next_fire_at == datetime(2026, 5, 10, 22, tzinfo=UTC)


def test_a_prescription_without_a_recorded_schedule_keeps_its_past_in_its_old_zone(
    clinic_a, clinician_a
):
    patient = PatientFactory(clinic=clinic_a, timezone="Europe/London")
    rx = PrescriptionFactory(patient=patient, clinician=clinician_a, start_date=date(2026, 5, 1))
    ledger.ledger_catch_up(patient_ids=[patient.id])  # its days so far, in London

    patient_update(patient=patient, timezone_name="Asia/Tokyo")

    first, then = ScheduleChange.objects.filter(prescription=rx).order_by("effective_at")
    assert (first.timezone, then.timezone) == ("Europe/London", "Asia/Tokyo")


# --- the red-flag email --------------------------------------------------------------------


def red_flag(rx, *flags, minute=0):
    return checkins.checkin_record(
        prescription=rx,
        slot="other",
        performed_at=NOW.replace(hour=11, minute=minute),
        pain_before=3,
        red_flags=list(flags),
    )


def test_a_sign_added_to_the_open_alert_is_its_update_naming_the_check_in(rx):
    red_flag(rx, "fever")
    alert = Alert.objects.get(kind="red_flag")
    cursor = last_event_id()

    added = red_flag(rx, "after_fall", minute=5)
    red_flag(rx, "fever", minute=10)  # nothing new for the clinician

    updates = [data for type, data in events_since(cursor) if type.startswith("alert.")]
    assert updates == [
        {"patient": rx.patient_id, "prescription": rx.id, "alert": alert.id, "check_in": added.id}
    ]


def test_the_email_leaves_only_once_the_check_in_is_committed(
    rx, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        red_flag(rx, "fever")
    assert mail.outbox == []

    for callback in callbacks:
        callback()

    [email] = mail.outbox
    assert f"alert {Alert.objects.get(kind='red_flag').id}" in email.body


def test_other_alerts_email_nobody(rx, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.record(
            events.Type.ALERT_RAISED,
            clinic_id=rx.patient.clinic_id,
            patient=rx.patient_id,
            alert=Alert.objects.create(patient=rx.patient, kind="no_check_in").id,
        )

    assert mail.outbox == []
