"""What a clinician reads on a patient's page, in a real browser: the prescription's facts,
times with their zone, what a red flag was, the charts' marks, and the phone's order."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from patients.services import patient_update
from prescriptions import adherence, checkins, services
from prescriptions.models import Alert
from prescriptions.schedule import local_today
from tests.browser import sign_in
from tests.factories import CheckInFactory, PrescriptionFactory


def open_page(page, clinician, patient):
    sign_in(page, clinician.username)
    page.goto(f"/staff/patients/{patient.id}/")


def fact(page, name: str):
    return page.locator("#prescription dl.facts dt", has_text=name).locator(
        "xpath=./following-sibling::dd[1]"
    )


@pytest.mark.parametrize(("heat_prep", "reads"), [(False, "no"), (True, "yes, 10 minutes")])
def test_heat_first_reads_as_prescribed(page, clinician_a, patient_a, heat_prep, reads):
    PrescriptionFactory(patient=patient_a, heat_prep=heat_prep)

    open_page(page, clinician_a, patient_a)

    expect(fact(page, "Heat first")).to_have_text(reads)


def test_an_ended_prescription_shows_its_last_day(page, clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    services.prescription_status_change(prescription=rx, to="ended", by=clinician_a)
    last_day = local_today(patient_a.zone)

    open_page(page, clinician_a, patient_a)

    dates = fact(page, "Dates")
    expect(dates).to_contain_text(f"{last_day:%b} {last_day.day}, {last_day.year}")
    expect(dates).not_to_contain_text("open")


def test_times_say_their_zone_and_a_check_in_keeps_the_zone_it_was_done_in(
    page, clinician_a, patient_a
):
    patient_update(patient=patient_a, timezone_name="Australia/Darwin")
    rx = PrescriptionFactory(patient=patient_a)
    # 15 hours back: its Darwin date is never after New York's today (Darwin runs 14.5
    # hours ahead), so the page's range, New York's, holds it at any hour of the day.
    done_at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=15)
    checkins.checkin_record(prescription=rx, slot="other", performed_at=done_at, pain_before=4)
    # Home again: the page reads in New York time, the check-in still in Darwin's.
    patient_update(patient=patient_a, timezone_name="America/New_York")
    Alert.objects.create(patient=patient_a, kind="no_check_in", details={})

    open_page(page, clinician_a, patient_a)

    darwin = done_at.astimezone(ZoneInfo("Australia/Darwin"))
    expect(page.locator("#checkins tbody tr").first).to_contain_text(f"{darwin:%H:%M} Darwin time")
    alert = Alert.objects.get()
    new_york = alert.created_at.astimezone(ZoneInfo("America/New_York"))
    expect(page.locator("#alerts .meta").first).to_contain_text(f"{new_york:%H:%M} New York time")
    # Every time on the page names a zone.
    for cell in page.locator(
        "#checkins tbody tr td:first-child, #reminders tbody td:first-child"
    ).all():
        assert re.search(r"\d\d:\d\d (\w+ )+time|UTC", cell.inner_text()), cell.inner_text()


def test_a_red_flag_says_which_signs_and_paused_only_while_paused(page, clinician_a, patient_a):
    rx = PrescriptionFactory(patient=patient_a)
    checkins.checkin_record(
        prescription=rx,
        slot="other",
        performed_at=datetime.now(UTC) - timedelta(minutes=5),
        pain_before=6,
        red_flags=["fever", "leg_weakness"],
    )
    open_page(page, clinician_a, patient_a)

    alert = page.locator("#alerts li", has=page.locator(".pill.red_flag"))
    expect(alert).to_contain_text("Fever")
    expect(alert).to_contain_text("New or worsening leg weakness")
    expect(alert).to_contain_text("The prescription is paused")

    services.prescription_status_change(prescription=rx, to="active", by=clinician_a)
    page.reload()

    expect(alert).to_contain_text("Fever")
    expect(alert).not_to_contain_text("paused")


def test_alert_kinds_read_as_words(page, clinician_a, patient_a):
    PrescriptionFactory(patient=patient_a)
    Alert.objects.create(patient=patient_a, kind="no_check_in", details={})
    Alert.objects.create(patient=patient_a, kind="session_pain", details={})

    open_page(page, clinician_a, patient_a)

    # Newest first.
    expect(page.locator("#alerts .pill")).to_have_text(["Session pain", "No check-in"])


def test_the_chart_marks_each_missed_session(page, clinician_a, patient_a):
    today = local_today(patient_a.zone)
    rx = PrescriptionFactory(patient=patient_a, start_date=today - timedelta(days=10))
    for days_ago in (2, 4, 5):
        CheckInFactory(
            prescription=rx,
            slot="morning",
            performed_at=datetime.now(UTC) - timedelta(days=days_ago),
            pain_before=5,
        )
    start, end = adherence.default_range(today)
    report = adherence.adherence_report(patient=patient_a, start=start, end=end)
    missed = sum(d["expected"] - d["completed"] for d in report["by_day"])
    days_with_a_miss = sum(d["expected"] > d["completed"] for d in report["by_day"])
    assert missed > days_with_a_miss  # two sessions a day: a day can miss both

    open_page(page, clinician_a, patient_a)

    expect(page.locator("#adherence-chart path.miss")).to_have_count(missed)


def test_a_pain_line_breaks_where_days_have_no_data(page, clinician_a, patient_a):
    rx = PrescriptionFactory(
        patient=patient_a, start_date=local_today(patient_a.zone) - timedelta(days=10)
    )
    for days_ago in (1, 2, 6, 7):
        CheckInFactory(
            prescription=rx,
            slot="morning",
            performed_at=datetime.now(UTC) - timedelta(days=days_ago),
            pain_before=5,
            pain_after=3,
        )

    open_page(page, clinician_a, patient_a)

    expect(page.locator("#pain-chart polyline.before")).to_have_count(2)


def test_a_year_long_range_names_both_years(page, clinician_a, patient_a):
    PrescriptionFactory(patient=patient_a)
    today = local_today(patient_a.zone)
    start = today - timedelta(days=364)
    sign_in(page, clinician_a.username)

    page.goto(f"/staff/patients/{patient_a.id}/?from={start}&to={today}")

    expect(page.get_by_role("form", name="Date range")).to_contain_text(
        f"{start:%b} {start.day}, {start.year} \N{EN DASH} {today:%b} {today.day}, {today.year}"
    )
    years = page.locator("#adherence-chart text.year").all_text_contents()
    assert years[0] == str(start.year) and years[-1] == str(today.year)


def test_on_a_phone_alerts_and_prescription_come_before_the_charts_and_the_trail(
    phone_page, clinician_a, patient_a
):
    PrescriptionFactory(patient=patient_a)
    Alert.objects.create(patient=patient_a, kind="no_check_in", details={})
    open_page(phone_page, clinician_a, patient_a)

    tops = {
        card: phone_page.locator(f"#{card}").bounding_box()["y"]
        for card in ("alerts", "prescription", "sessions", "pain", "checkins", "audit")
    }

    assert sorted(tops, key=tops.get) == [
        "alerts",
        "prescription",
        "sessions",
        "pain",
        "checkins",
        "audit",
    ]
