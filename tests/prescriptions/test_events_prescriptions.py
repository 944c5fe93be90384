"""One door per change, prescriptions: prescribe, change the plan, pause, resume and end,
check in (with its red flag's alert and pause), correct and withdraw a check-in, raise
(at check-in and by the periodic rules) and acknowledge an alert, a reminder that failed.
Each commits with its event; a failure after the change, before the commit, leaves
neither."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from clinic.models import Event
from prescriptions import alerts, checkins, services
from prescriptions.models import Alert, CheckIn, Prescription, Reminder
from prescriptions.tasks import deliver_reminders
from tests.events_support import (
    Boom,
    events_since,
    failing_event_writes,
    last_event_id,
    rolled_back,
)
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory, knee_rocks
from tests.prescriptions.reminders_support import FIRE_AT, queued, scheduled_prescription

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rx(patient_a):
    return PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 1))


def ids(rx, **more):
    return {"patient": rx.patient_id, "prescription": rx.id, **more}


# --- prescribe -------------------------------------------------------------------------


def prescribe(patient, clinician):
    return services.prescription_create(
        patient=patient, clinician=clinician, protocol=knee_rocks(), start_date=date(2026, 5, 9)
    )


def test_prescribing_commits_with_prescription_created(patient_a, clinician_a):
    cursor = last_event_id()
    rx = prescribe(patient_a, clinician_a)
    assert events_since(cursor) == [("prescription.created", ids(rx))]
    assert Event.objects.get(id__gt=cursor).clinic_id == patient_a.clinic_id


def test_a_prescription_that_fails_before_commit_leaves_neither(patient_a, clinician_a):
    with rolled_back():
        prescribe(patient_a, clinician_a)
    assert not Prescription.objects.filter(patient=patient_a).exists()


def test_a_prescription_whose_event_fails_is_not_kept(patient_a, clinician_a, monkeypatch):
    failing_event_writes(monkeypatch)
    with pytest.raises(Boom):
        prescribe(patient_a, clinician_a)
    assert not Prescription.objects.filter(patient=patient_a).exists()


# --- change the plan -------------------------------------------------------------------


def test_a_plan_change_commits_with_prescription_changed(rx):
    cursor = last_event_id()
    services.prescription_update(prescription=rx, heat_prep=True)
    assert events_since(cursor) == [("prescription.changed", ids(rx))]


def test_a_plan_change_that_changes_nothing_writes_no_event(rx):
    cursor = last_event_id()
    services.prescription_update(prescription=rx, heat_prep=rx.heat_prep)
    assert events_since(cursor) == []


def test_a_plan_change_that_fails_before_commit_leaves_neither(rx):
    with rolled_back():
        services.prescription_update(prescription=rx, slots=[{"kind": "morning", "time": time(6)}])
    assert Prescription.objects.get(id=rx.id).slots.count() == 2


def test_a_plan_change_whose_event_fails_changes_nothing(rx, monkeypatch):
    failing_event_writes(monkeypatch)
    with pytest.raises(Boom):
        services.prescription_update(prescription=rx, heat_prep=True)
    assert Prescription.objects.get(id=rx.id).heat_prep is False


# --- pause, resume, end ----------------------------------------------------------------


def test_pause_resume_and_end_each_commit_their_event(rx):
    cursor = last_event_id()
    for to in ("paused", "active", "ended"):
        services.prescription_status_change(prescription=rx, to=to)
    assert events_since(cursor) == [
        ("prescription.paused", ids(rx)),
        ("prescription.resumed", ids(rx)),
        ("prescription.ended", ids(rx)),
    ]


@pytest.mark.parametrize("to", ["paused", "ended"])
def test_a_status_change_that_fails_before_commit_leaves_neither(rx, to):
    with rolled_back():
        services.prescription_status_change(prescription=rx, to=to)
    assert Prescription.objects.get(id=rx.id).status == "active"
    assert rx.status_changes.count() == 1


def test_a_status_change_whose_event_fails_changes_nothing(rx, monkeypatch):
    failing_event_writes(monkeypatch)
    with pytest.raises(Boom):
        services.prescription_status_change(prescription=rx, to="paused")
    assert Prescription.objects.get(id=rx.id).status == "active"


def test_a_refused_status_change_writes_no_event(rx):
    cursor = last_event_id()
    with pytest.raises(Exception, match="not paused"):
        services.prescription_status_change(prescription=rx, to="active")
    assert events_since(cursor) == []


# --- check in --------------------------------------------------------------------------


def check_in(rx, **session):
    session.setdefault("slot", "morning")
    session.setdefault("performed_at", NOW - timedelta(hours=1))
    session.setdefault("pain_before", 4)
    return checkins.checkin_record(prescription=rx, **session)


def test_a_check_in_commits_with_check_in_created(rx):
    cursor = last_event_id()
    checkin = check_in(rx)
    assert events_since(cursor) == [("check_in.created", ids(rx, check_in=checkin.id))]


def test_a_red_flag_check_in_writes_its_three_changes_in_order(rx):
    cursor = last_event_id()
    checkin = check_in(rx, red_flags=["bladder_bowel"])
    alert = Alert.objects.get(patient=rx.patient, kind="red_flag")
    assert events_since(cursor) == [
        ("check_in.created", ids(rx, check_in=checkin.id)),
        ("alert.raised", ids(rx, alert=alert.id)),
        ("prescription.paused", ids(rx)),
    ]


def test_a_check_in_that_fails_before_commit_leaves_neither(rx):
    with rolled_back():
        check_in(rx, red_flags=["bladder_bowel"])
    assert not CheckIn.objects.filter(prescription=rx).exists()
    assert not Alert.objects.filter(patient=rx.patient).exists()


def test_a_check_in_whose_event_fails_is_not_kept(rx, monkeypatch):
    failing_event_writes(monkeypatch)
    with pytest.raises(Boom):
        check_in(rx)
    assert not CheckIn.objects.filter(prescription=rx).exists()


# --- correct, withdraw -----------------------------------------------------------------


@pytest.fixture
def made(rx):
    return CheckInFactory(prescription=rx, slot="morning", performed_at=NOW - timedelta(hours=1))


def test_a_correction_commits_with_check_in_corrected(rx, made):
    cursor = last_event_id()
    checkins.checkin_correct(checkin=made, by=rx.patient.user, changes={"pain_before": 2})
    assert events_since(cursor) == [("check_in.corrected", ids(rx, check_in=made.id))]


def test_a_correction_that_fails_before_commit_leaves_neither(rx, made):
    with rolled_back():
        checkins.checkin_correct(checkin=made, by=rx.patient.user, changes={"pain_before": 2})
    assert CheckIn.objects.get(id=made.id).pain_before == made.pain_before


def test_a_withdrawal_commits_with_check_in_withdrawn(rx, made):
    cursor = last_event_id()
    checkins.checkin_withdraw(checkin=made, by=rx.patient.user)
    assert events_since(cursor) == [("check_in.withdrawn", ids(rx, check_in=made.id))]


def test_a_withdrawal_whose_event_fails_keeps_the_check_in(rx, made, monkeypatch):
    failing_event_writes(monkeypatch)
    with pytest.raises(Boom):
        checkins.checkin_withdraw(checkin=made, by=rx.patient.user)
    assert CheckIn.objects.filter(id=made.id).exists()


# --- alerts ----------------------------------------------------------------------------


def test_the_periodic_rules_commit_each_alert_with_alert_raised(clinic_a, clinic_b):
    quiet = [
        PrescriptionFactory(patient=PatientFactory(clinic=clinic), start_date=date(2026, 4, 20))
        for clinic in (clinic_a, clinic_b)
    ]
    cursor = last_event_id()
    raised = alerts.evaluate_alerts()

    assert raised
    got = Event.objects.filter(id__gt=cursor).order_by("id")
    assert sorted((e.clinic_id, e.type, e.data["alert"]) for e in got) == sorted(
        (a.patient.clinic_id, "alert.raised", a.id) for a in raised
    )
    assert {e.data["patient"] for e in got} == {rx.patient_id for rx in quiet}
    # A second run raises nothing new, and writes nothing.
    cursor = last_event_id()
    assert alerts.evaluate_alerts() == []
    assert events_since(cursor) == []


def test_periodic_alerts_that_fail_before_commit_leave_neither(rx):
    with rolled_back():
        assert alerts.evaluate_alerts()
    assert not Alert.objects.exists()


def test_periodic_alerts_whose_events_fail_are_not_kept(rx, monkeypatch):
    failing_event_writes(monkeypatch)
    with pytest.raises(Boom):
        alerts.evaluate_alerts()
    assert not Alert.objects.exists()


def test_an_acknowledgement_commits_with_alert_acknowledged(rx, clinician_a):
    alert = alerts.evaluate_alerts()[0]
    cursor = last_event_id()
    alerts.alert_acknowledge(alert=Alert.objects.get(id=alert.id), by=clinician_a)
    assert events_since(cursor) == [
        (
            "alert.acknowledged",
            {**ids(rx), "prescription": alert.prescription_id, "alert": alert.id},
        )
    ]


def test_an_acknowledgement_that_fails_before_commit_leaves_neither(rx, clinician_a):
    alert = alerts.evaluate_alerts()[0]
    with rolled_back():
        alerts.alert_acknowledge(alert=alert, by=clinician_a)
    assert Alert.objects.get(id=alert.id).acknowledged_at is None


# --- a reminder that failed ------------------------------------------------------------


@pytest.fixture
def texted():
    with time_machine.travel(FIRE_AT - timedelta(hours=8), tick=False):
        prescription = scheduled_prescription()
    prescription.patient.phone = ""
    prescription.patient.save()
    return prescription


def test_a_reminder_that_failed_commits_with_reminder_failed(texted):
    with time_machine.travel(FIRE_AT, tick=False):
        reminder = queued(texted, channel="sms")
        cursor = last_event_id()
        deliver_reminders.delay([reminder.id])
    assert Reminder.objects.get(id=reminder.id).status == "failed"
    assert events_since(cursor) == [("reminder.failed", ids(texted, reminder=reminder.id))]


def test_a_reminder_failure_whose_event_fails_is_not_marked(texted, monkeypatch):
    with time_machine.travel(FIRE_AT, tick=False):
        reminder = queued(texted, channel="sms")
        failing_event_writes(monkeypatch)
        with pytest.raises(Boom):
            deliver_reminders.delay([reminder.id])
    assert Reminder.objects.get(id=reminder.id).status != "failed"


def test_a_text_in_doubt_that_the_sweep_fails_commits_with_reminder_failed(texted):
    from tests.prescriptions.reminders.test_reminders_leases import killed_after_claiming, sweep

    texted.patient.phone = "+1 555 0100"
    texted.patient.save()
    reminder = queued(texted, channel="sms")
    killed_after_claiming([reminder], sending=[reminder])
    cursor = last_event_id()

    sweep(minutes=6)

    assert Reminder.objects.get(id=reminder.id).status == "failed"
    assert events_since(cursor) == [("reminder.failed", ids(texted, reminder=reminder.id))]
