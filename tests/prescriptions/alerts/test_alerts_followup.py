"""What a posted check-in sets off at once: red flags, session pain, and the patient's advice."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail

from prescriptions.alerts import advice
from prescriptions.models import AdherenceDay, Alert, Prescription, Protocol
from tests.conftest import client_for
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

URL = "/api/v1/check-ins/"
NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)  # 08:00 in New York


@pytest.fixture
def rx(patient_a, clinician_a):
    return PrescriptionFactory(
        patient=patient_a, clinician=clinician_a, start_date=date(2026, 5, 1)
    )


def post(patient, rx, **fields):
    body = {
        "prescription": rx.id,
        "slot": "morning",
        "performed_at": "2026-05-10T07:40:00-04:00",
        "pain_before": 5,
        **fields,
    }
    return client_for(patient.user).post(URL, body, format="json")


def test_it_acts_on_a_red_flag_at_once(
    django_capture_on_commit_callbacks, patient_a, clinician_a, rx
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(patient_a, rx, red_flags=["leg_weakness"])

    assert response.status_code == 201
    assert response.json()["advice"] == advice.RED_FLAG
    alert = Alert.objects.get(patient=patient_a, kind="red_flag")
    assert alert.details["red_flags"] == ["leg_weakness"]
    assert alert.details["check_ins"] == [response.json()["id"]]
    rx.refresh_from_db()
    assert rx.status == Prescription.Status.PAUSED
    # Paused from the moment of the session, 07:40 EDT.
    pause = rx.status_changes.latest("effective_at")
    assert pause.effective_at == datetime(2026, 5, 10, 11, 40, tzinfo=UTC)
    assert pause.recorded_by is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [clinician_a.email]
    assert f"alert {alert.id}" in mail.outbox[0].body
    # Email is no place for health details or names.
    assert "leg" not in mail.outbox[0].body
    assert patient_a.last_name not in mail.outbox[0].body


@pytest.mark.parametrize("flag", ["numbness_groin", "bladder_bowel"])
def test_it_tells_the_patient_to_get_emergency_care_for_the_gravest_signs(patient_a, rx, flag):
    response = post(patient_a, rx, red_flags=["fever", flag])

    assert response.json()["advice"] == advice.RED_FLAG_EMERGENCY


def test_it_sends_nothing_before_the_check_in_is_committed(patient_a, rx):
    # Without the commit (the test transaction never commits) no email may leave.
    post(patient_a, rx, red_flags=["fever"])

    assert mail.outbox == []


def test_it_adds_a_second_red_flag_to_the_open_alert(
    django_capture_on_commit_callbacks, patient_a, rx
):
    with django_capture_on_commit_callbacks(execute=True):
        post(patient_a, rx, red_flags=["fever"])
        second = post(
            patient_a, rx, red_flags=["after_fall"], performed_at="2026-05-10T07:50:00-04:00"
        )

    assert second.status_code == 201
    alert = Alert.objects.get(patient=patient_a, kind="red_flag")
    assert alert.details["red_flags"] == ["after_fall", "fever"]
    assert len(alert.details["check_ins"]) == 2
    first, further = mail.outbox
    assert "a further warning sign" in further.body
    assert f"Alert {alert.id} was still open" in further.body
    assert first.body != further.body


def test_it_emails_once_for_signs_the_open_alert_already_holds(
    django_capture_on_commit_callbacks, patient_a, rx
):
    with django_capture_on_commit_callbacks(execute=True):
        post(patient_a, rx, red_flags=["fever", "leg_weakness"])
        again = post(patient_a, rx, red_flags=["fever"], performed_at="2026-05-10T07:50:00-04:00")

    assert again.status_code == 201
    assert again.json()["advice"] == advice.RED_FLAG  # the patient is still told what to do
    assert len(Alert.objects.get(kind="red_flag").details["check_ins"]) == 2
    assert len(mail.outbox) == 1


def test_it_emails_again_when_an_emergency_sign_follows(
    django_capture_on_commit_callbacks, patient_a, rx
):
    with django_capture_on_commit_callbacks(execute=True):
        post(patient_a, rx, red_flags=["fever"])
        post(patient_a, rx, red_flags=["bladder_bowel"], performed_at="2026-05-10T07:50:00-04:00")

    first, urgent = mail.outbox
    assert "Urgency: prompt review" in first.body
    assert "EMERGENCY" in urgent.subject
    assert "Urgency: EMERGENCY" in urgent.body
    assert "emergency department" in urgent.body
    assert "bladder" not in urgent.body


def test_it_dates_the_email_with_the_patients_local_date_and_links_their_page(
    django_capture_on_commit_callbacks, settings, clinic_a, clinician_a
):
    settings.SITE_URL = "https://clinic.example.test"
    # 23:30 on 9 May in Los Angeles is already 10 May in UTC.
    patient = PatientFactory(clinic=clinic_a, timezone="America/Los_Angeles")
    rx = PrescriptionFactory(patient=patient, clinician=clinician_a, start_date=date(2026, 5, 1))

    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            patient, rx, slot="other", performed_at="2026-05-09T23:30:00-07:00", red_flags=["fever"]
        )

    assert response.status_code == 201
    [email] = mail.outbox
    assert "on 2026-05-09 (the patient's local date)" in email.body
    assert f"https://clinic.example.test/staff/patients/{patient.id}/" in email.body
    assert patient.first_name not in email.body
    assert "fever" not in email.body.lower()


def test_it_does_not_pause_an_already_paused_prescription_again(patient_a, clinician_a, rx):
    client_for(clinician_a).post(f"/api/v1/prescriptions/{rx.id}/pause/", {}, format="json")

    response = post(patient_a, rx, red_flags=["fever"])

    assert response.status_code == 201
    assert rx.status_changes.filter(status="paused").count() == 1
    assert Alert.objects.filter(kind="red_flag").count() == 1


def test_it_tells_the_patient_to_ease_off_when_pain_rose_by_two(patient_a, rx):
    response = post(patient_a, rx, pain_before=3, pain_after=5)

    assert response.json()["advice"] == advice.EASE_OFF
    assert not Alert.objects.exists()


def test_it_says_nothing_special_when_pain_rose_by_one(patient_a, rx):
    response = post(patient_a, rx, pain_before=3, pain_after=4)

    assert response.json()["advice"] is None


def test_it_raises_session_pain_on_the_second_painful_day(patient_a, rx):
    # 6 May, 07:30 EDT: pain rose by 3.
    CheckInFactory(
        prescription=rx,
        slot="morning",
        performed_at=datetime(2026, 5, 6, 11, 30, tzinfo=UTC),
        pain_before=3,
        pain_after=6,
    )

    post(patient_a, rx, pain_before=4, pain_after=6)

    alert = Alert.objects.get(kind="session_pain")
    assert alert.details["days"] == ["2026-05-06", "2026-05-10"]


def test_it_does_not_count_two_painful_sessions_on_one_day_as_two_days(patient_a, rx):
    post(patient_a, rx, pain_before=4, pain_after=6)
    post(patient_a, rx, pain_before=4, pain_after=7, performed_at="2026-05-10T07:55:00-04:00")

    assert not Alert.objects.filter(kind="session_pain").exists()


def test_it_encourages_a_streak_of_three_days(patient_a, rx):
    # Both sessions on 7, 8 and 9 May (morning 07:30, bedtime 22:30 EDT).
    for d in (7, 8, 9):
        morning = datetime(2026, 5, d, 11, 30, tzinfo=UTC)
        CheckInFactory(prescription=rx, slot="morning", performed_at=morning)
        CheckInFactory(prescription=rx, slot="bedtime", performed_at=morning + timedelta(hours=15))

    response = post(patient_a, rx)

    # Today is not complete until bedtime, so it is passed over: 9, 8, 7 May. 3.
    assert response.json()["advice"] == advice.streak(3)


def test_it_does_not_encourage_a_streak_of_two_days(patient_a, rx):
    for d in (8, 9):
        morning = datetime(2026, 5, d, 11, 30, tzinfo=UTC)
        CheckInFactory(prescription=rx, slot="morning", performed_at=morning)
        CheckInFactory(prescription=rx, slot="bedtime", performed_at=morning + timedelta(hours=15))

    assert post(patient_a, rx).json()["advice"] is None


def test_it_counts_the_streak_as_the_adherence_report_does(patient_a, clinician_a, rx):
    # Both sessions on 5, 6, 8 and 9 May; 4 May missed; paused for the whole of 7 May.
    for d in (3, 5, 6, 8, 9):
        morning = datetime(2026, 5, d, 11, 30, tzinfo=UTC)
        CheckInFactory(prescription=rx, slot="morning", performed_at=morning)
        CheckInFactory(prescription=rx, slot="bedtime", performed_at=morning + timedelta(hours=15))
    clinician = client_for(clinician_a)
    for action, day in (("pause", 7), ("resume", 8)):
        effective = f"2026-05-0{day}T00:00:00-04:00"
        answer = clinician.post(
            f"/api/v1/prescriptions/{rx.id}/{action}/", {"effective": effective}, format="json"
        )
        assert answer.status_code == 200, answer.json()

    def report_streak():
        report = client_for(patient_a.user).get(f"/api/v1/patients/{patient_a.id}/adherence/")
        return report.json()["current_streak_days"]

    # Today's bedtime is still to come: today is passed over, so are 7 May; 4 May ends it.
    morning = post(patient_a, rx)
    assert morning.json()["advice"] == advice.streak(4)
    assert report_streak() == 4
    # With today's bedtime done too, today adds one.
    bedtime = post(patient_a, rx, slot="bedtime", performed_at="2026-05-10T07:50:00-04:00")
    assert bedtime.json()["advice"] == advice.streak(5)
    assert report_streak() == 5


def test_it_counts_the_streak_over_all_the_patients_prescriptions(patient_a, clinician_a, rx):
    # A second plan beside the first, mornings only: its morning of 6 May was missed.
    other = PrescriptionFactory(
        patient=patient_a,
        clinician=clinician_a,
        protocol=Protocol.objects.create(
            slug="back-stretch",
            name="Back stretch",
            summary="A second plan.",
            range_limit_degrees=45,
            heat_prep_minutes=10,
        ),
        start_date=date(2026, 5, 5),
        slots=[("morning", "07:00")],
    )
    for d in (3, 4, 5, 6, 7, 8, 9):
        morning = datetime(2026, 5, d, 11, 30, tzinfo=UTC)
        CheckInFactory(prescription=rx, slot="morning", performed_at=morning)
        CheckInFactory(prescription=rx, slot="bedtime", performed_at=morning + timedelta(hours=15))
        if d != 6:
            CheckInFactory(prescription=other, slot="morning", performed_at=morning)

    # The first plan's days alone would make 7 (3 to 9 May); the second's 6 May ends it.
    assert post(patient_a, rx).json()["advice"] == advice.streak(3)


def test_it_counts_the_streak_while_the_scheduler_is_behind(patient_a, rx):
    for d in (7, 8, 9):
        morning = datetime(2026, 5, d, 11, 30, tzinfo=UTC)
        CheckInFactory(prescription=rx, slot="morning", performed_at=morning)
        CheckInFactory(prescription=rx, slot="bedtime", performed_at=morning + timedelta(hours=15))
    # The tick stopped after 7 May: the days since hold their check-ins and nothing else.
    AdherenceDay.objects.filter(prescription=rx, local_date__gte=date(2026, 5, 8)).update(
        active=False, morning_due_at=None, bedtime_due_at=None
    )
    Prescription.objects.filter(id=rx.id).update(ledger_until=datetime(2026, 5, 8, 4, tzinfo=UTC))

    assert post(patient_a, rx).json()["advice"] == advice.streak(3)


def test_it_encourages_a_night_session_the_prescription_invites(patient_a, rx):
    response = post(patient_a, rx, slot="night", performed_at="2026-05-10T03:10:00-04:00")

    assert response.json()["advice"] == advice.NIGHT


def test_it_does_not_invite_night_sessions_the_clinician_left_out(patient_a, rx):
    rx.as_needed = False
    rx.save()

    response = post(patient_a, rx, slot="night", performed_at="2026-05-10T03:10:00-04:00")

    assert response.json()["advice"] is None


def test_it_still_tells_the_patient_to_ease_off_after_a_painful_night_session(patient_a, rx):
    response = post(
        patient_a,
        rx,
        slot="night",
        performed_at="2026-05-10T03:10:00-04:00",
        pain_before=3,
        pain_after=6,
    )

    assert response.json()["advice"] == advice.EASE_OFF
