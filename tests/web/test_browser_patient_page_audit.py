"""Who opened a patient's record, in a real browser: every read is still recorded, and the
trail can be read by kind, a page at a time, without a column cut off at 1280 px."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import AuditEntry
from tests.browser import sign_in
from tests.factories import PrescriptionFactory


def entry(patient, actor, action, path, minutes_ago):
    return AuditEntry(
        at=timezone.now() - timedelta(minutes=minutes_ago),
        actor=actor,
        role=actor.role,
        patient_id=patient.id,
        action=action,
        method="GET" if action in ("read", "export") else "POST",
        path=path,
        request_id="f" * 32,
    )


@pytest.fixture
def trail(patient_a, clinician_a, staff_a):
    """44 list views, a few openings, an export and a change, as on Arjun's record."""
    rows = [entry(patient_a, staff_a, "read", "/staff/", 100 + i) for i in range(44)]
    rows += [
        entry(patient_a, clinician_a, "read", f"/staff/patients/{patient_a.id}/", 50 + i)
        for i in range(5)
    ]
    rows.append(entry(patient_a, staff_a, "export", "/staff/adherence.csv", 40))
    rows.append(entry(patient_a, clinician_a, "update", "/staff/prescriptions/1/plan/", 30))
    # A path and request id long enough to push a column off a table that does not wrap.
    rows.append(
        entry(
            patient_a, clinician_a, "read", f"/api/v1/patients/{patient_a.id}/fhir/" + "x" * 200, 20
        )
    )
    AuditEntry.objects.bulk_create(rows)
    return rows


def test_a_list_view_still_leaves_a_read_for_every_patient_on_it(page, clinician_a, patient_a):
    PrescriptionFactory(patient=patient_a)
    sign_in(page, clinician_a.username)  # lands on the clinic table, which lists her

    assert AuditEntry.objects.filter(patient_id=patient_a.id, path="/staff/").exists()


def test_the_trail_filters_by_kind_and_pages_through(page, clinician_a, patient_a, trail):
    sign_in(page, clinician_a.username)
    page.goto(f"/staff/patients/{patient_a.id}/")

    page.get_by_role("link", name="by kind").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(50)
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")
    page.get_by_role("link", name="Older →").click()
    # Signing in (the clinic table lists her) and opening her page added one read each.
    expect(rows).to_have_count(len(trail) + 2 - 50)

    kinds = page.get_by_role("navigation", name="Kind")
    kinds.get_by_role("link", name="Opened the record").click()
    expect(rows).to_have_count(5 + 1 + 1)  # the openings, the fhir read, this visit
    expect(rows.first).to_contain_text("Opened the record")
    kinds.get_by_role("link", name="A list showed them").click()
    expect(rows).to_have_count(44 + 1)  # and the clinic table signing in landed on
    kinds.get_by_role("link", name="Exported").click()
    expect(rows).to_have_count(1)
    kinds.get_by_role("link", name="Changed").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("/plan/")


def test_no_column_of_the_trail_is_cut_at_1280_px(page, clinician_a, patient_a, trail):
    sign_in(page, clinician_a.username)
    page.goto(f"/staff/patients/{patient_a.id}/audit/?kind=opened")

    table = page.locator("table.audit")
    expect(table).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    card = page.locator("table.audit").locator("xpath=ancestor::section[1]").bounding_box()
    for cell in table.locator("th, td").all():
        box = cell.bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"] + 1, cell.inner_text()[:40]


def test_the_card_on_the_patient_page_fits_and_links_to_the_whole_trail(
    page, clinician_a, patient_a, trail
):
    sign_in(page, clinician_a.username)
    page.goto(f"/staff/patients/{patient_a.id}/")

    card = page.locator("#audit")
    expect(card.locator("ol.trail li")).to_have_count(8)
    box = card.bounding_box()
    for item in card.locator("li").all():
        inner = item.bounding_box()
        assert inner["x"] + inner["width"] <= box["x"] + box["width"] + 1
