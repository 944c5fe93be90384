"""The clinician's weekly digest: content, one per clinician and week, retry after failure."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from prescriptions.alerts import digest
from prescriptions.models import Alert, DigestClaim
from prescriptions.tasks import send_weekly_digests
from tests.factories import CheckInFactory, ClinicianFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2024, 6, 10, 11, 0, tzinfo=UTC)  # 07:00 in New York
WEEK = date(2024, 6, 3)


@pytest.fixture
def prescribed(clinician_a, patient_a, other_patient, clinician_b, patient_b):
    mine = PrescriptionFactory(
        patient=patient_a, clinician=clinician_a, start_date=date(2024, 5, 1)
    )
    # Morning sessions on three days of the week: 3 of the 14 expected.
    for day in (3, 4, 5):
        CheckInFactory(
            prescription=mine,
            slot="morning",
            performed_at=datetime(2024, 6, day, 11, 30, tzinfo=UTC),
        )
    Alert.objects.create(patient=patient_a, prescription=mine, kind="no_check_in")
    PrescriptionFactory(patient=patient_b, clinician=clinician_b, start_date=date(2024, 5, 1))
    return mine


def digest_for(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def run(at=MONDAY):
    with time_machine.travel(at, tick=False):
        send_weekly_digests.delay()


def test_it_emails_each_clinician_their_own_patients_week(prescribed, clinician_a, clinician_b):
    run()

    [message] = digest_for(clinician_a)
    assert "Moss, Ada: 3 of 14 sessions (21.4 %)" in message.body
    assert "open alerts: 1" in message.body
    assert "Hale" not in message.body
    assert len(digest_for(clinician_b)) == 1


def test_it_never_sends_a_week_twice(prescribed, clinician_a):
    run()
    run(MONDAY + timedelta(hours=1))

    assert len(digest_for(clinician_a)) == 1
    assert DigestClaim.objects.get(clinician=clinician_a).sent_at is not None


def test_it_sends_again_the_following_week(prescribed, clinician_a):
    run()
    run(MONDAY + timedelta(days=7))

    assert sorted(
        DigestClaim.objects.filter(clinician=clinician_a).values_list("week_start", flat=True)
    ) == [
        WEEK,
        WEEK + timedelta(days=7),
    ]


def test_it_lets_a_retry_send_a_digest_whose_email_failed(prescribed, clinician_a, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with pytest.raises(OSError):
        digest.digest_send(clinician_id=clinician_a.id, week_start=WEEK, now=MONDAY)
    monkeypatch.undo()

    assert digest.digest_send(clinician_id=clinician_a.id, week_start=WEEK, now=MONDAY)
    assert len(digest_for(clinician_a)) == 1


def test_it_skips_clinicians_who_prescribed_nothing(prescribed, clinic_a):
    idle = ClinicianFactory(clinic=clinic_a)

    run()

    assert digest_for(idle) == []


def test_it_takes_the_last_complete_week_in_the_clinic_zone():
    sydney = ZoneInfo("Australia/Sydney")

    # Sunday evening in UTC is already Monday in Sydney: the week just ended counts.
    assert digest.last_complete_week(sydney, datetime(2024, 6, 9, 22, tzinfo=UTC)) == WEEK
    assert digest.last_complete_week(ZoneInfo("UTC"), datetime(2024, 6, 9, 22, tzinfo=UTC)) == (
        WEEK - timedelta(days=7)
    )
