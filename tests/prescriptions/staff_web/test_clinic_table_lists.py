"""The clinic's lists read plainly: every time says the clinic's zone, every quick filter
says how many it holds, a search says where archived patients went, a bad range is said in
words."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from prescriptions.models import Alert, Reminder
from tests.conftest import signed_in
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 20, tzinfo=UTC)
# 06:55 in the clinic's London is 17:55 in Isla's Sydney.
ALERT_AT = datetime(2026, 12, 7, 6, 55, tzinfo=UTC)


@pytest.fixture
def london(clinic_a):
    clinic_a.timezone = "Europe/London"
    clinic_a.save()
    return clinic_a


@pytest.fixture
def isla(london):
    with time_machine.travel(NOW - timedelta(days=14), tick=False):
        isla = PatientFactory(
            clinic=london, first_name="Isla", last_name="Reed", timezone="Australia/Sydney"
        )
        rx = PrescriptionFactory(patient=isla, start_date=date(2026, 11, 20))
    CheckInFactory(prescription=rx, slot="morning", performed_at=ALERT_AT - timedelta(minutes=5))
    alert = Alert.objects.create(patient=isla, kind="no_check_in", details={"message": "Quiet."})
    Alert.objects.filter(id=alert.id).update(created_at=ALERT_AT)
    return isla


def get(user, path="/staff/", **params):
    with time_machine.travel(NOW, tick=False):
        return signed_in(user).get(path, params)


def text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_it_says_the_clinics_zone_beside_the_time_of_an_alert(staff_a, isla):
    page = text(get(staff_a).content.decode())

    assert "7 Dec 2026, 06:55 London time" in page
    assert "17:55" not in page


def test_a_no_check_in_alert_says_when_the_patient_checked_in_since(staff_a, isla):
    # Her check-in came five minutes before the alert: nothing to add.
    assert "Checked in since" not in get(staff_a).content.decode()

    CheckInFactory(
        prescription=isla.prescriptions.get(),
        slot="bedtime",
        performed_at=ALERT_AT + timedelta(hours=3, minutes=5),
    )

    page = text(get(staff_a).content.decode())
    assert "Quiet. Checked in since: 7 Dec 2026, 10:00 London time." in page


def test_it_says_the_clinics_zone_beside_the_last_check_in(staff_a, isla):
    table = text(get(staff_a).content.decode().split('id="clinic-table"')[1])

    assert "7 Dec 2026, 06:50 London time" in table


def test_the_delivery_problems_say_the_clinics_zone_and_the_patients(staff_a, isla):
    Reminder.objects.create(
        prescription=isla.prescriptions.get(),
        slot="morning",
        local_date=date(2026, 12, 7),
        fire_at=ALERT_AT,
        channel="sms",
        status="failed",
        reason="No phone number",
    )

    page = text(get(staff_a, "/staff/deliveries/").content.decode())

    assert "7 Dec 2026, 06:55 London time" in page
    assert "17:55 Sydney time for the patient" in page


def test_it_says_a_back_to_front_range_in_words(staff_a, isla):
    response = get(staff_a, **{"from": "2026-12-05", "to": "2026-12-01"})
    csv = get(staff_a, "/staff/adherence.csv", **{"from": "2026-12-05", "to": "2026-12-01"})

    assert response.status_code == 400
    assert "The first day (From) must not be after the last day (To)." in text(
        response.content.decode()
    )
    assert "`" not in response.content.decode()
    assert csv.json() == {"from": ["The first day (From) must not be after the last day (To)."]}


def chip_counts(page: str) -> dict[str, str]:
    nav = page.split('aria-label="Quick filters"')[1].split("</nav>")[0]
    return dict(re.findall(r'<a class="chip"[^>]*>([^<]+)<span class="n">(\d+)</span>', nav))


def listed(page: str) -> int:
    return len(re.findall(r'<td class="name">', page))


def test_every_quick_filter_says_how_many_it_holds(staff_a, london):
    with time_machine.travel(NOW - timedelta(days=14), tick=False):
        keen = PatientFactory(clinic=london)
        idle = [PatientFactory(clinic=london) for _ in range(3)]
        rxs = [PrescriptionFactory(patient=p, start_date=date(2026, 11, 24)) for p in idle]
        keen_rx = PrescriptionFactory(patient=keen, start_date=date(2026, 11, 24))
    for day in range(14):
        at = datetime(2026, 11, 24, 12, tzinfo=UTC) + timedelta(days=day)
        CheckInFactory(prescription=keen_rx, slot="morning", performed_at=at)
        CheckInFactory(prescription=keen_rx, slot="bedtime", performed_at=at + timedelta(hours=10))
    CheckInFactory(prescription=rxs[0], slot="morning", performed_at=NOW - timedelta(days=1))

    counts = chip_counts(get(staff_a).content.decode())

    assert counts["Everyone"] == "4"
    assert counts["Low adherence"] == "3"
    for label, value in (("Low adherence", "low_adherence"), ("Everyone", "")):
        assert listed(get(staff_a, show=value).content.decode()) == int(counts[label])
    assert set(counts) == {
        "Everyone",
        "Open alerts",
        "Red flag",
        "Paused",
        "Not yet activated",
        "Low adherence",
        "Archived",
    }


def test_the_low_adherence_count_follows_the_chosen_dates(staff_a, isla):
    # Isla did every session on 6 December, and nothing before it.
    days = {"from": "2026-12-06", "to": "2026-12-06"}
    rx = isla.prescriptions.get()
    CheckInFactory(
        prescription=rx, slot="bedtime", performed_at=datetime(2026, 12, 6, 11, 30, tzinfo=UTC)
    )
    CheckInFactory(
        prescription=rx, slot="morning", performed_at=datetime(2026, 12, 5, 20, 30, tzinfo=UTC)
    )

    assert chip_counts(get(staff_a).content.decode())["Low adherence"] == "1"
    assert chip_counts(get(staff_a, **days).content.decode())["Low adherence"] == "0"


def test_a_search_that_finds_archived_patients_points_to_the_archived_filter(staff_a, london):
    PatientFactory(clinic=london, first_name="Arjun", last_name="Rao", archived_at=timezone.now())
    PatientFactory(clinic=london, first_name="Arjun", last_name="Mehta")

    found = get(staff_a, q="arjun").content.decode()
    only_archived = get(staff_a, q="rao").content.decode()
    archived_view = get(staff_a, q="rao", show="archived").content.decode()
    nobody = get(staff_a, q="zed").content.decode()

    assert "1 archived patient also matches this search" in text(found)
    assert 'href="?q=arjun&amp;show=archived"' in found
    assert "No patient matches" in only_archived and 'id="archived-hint"' in only_archived
    assert 'id="archived-hint"' not in archived_view
    assert 'id="archived-hint"' not in nobody
