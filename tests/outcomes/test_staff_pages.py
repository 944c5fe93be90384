"""What outcomes adds to the clinic team's pages (through prescriptions.extensions): the
chart per instrument on the patient page, and on /staff/ the clinic's summary and the
clinic table's PSFS-change column, each in a constant number of queries."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from prescriptions import extensions
from tests.conftest import client_for, signed_in
from tests.factories import PatientFactory
from tests.outcomes.support import pgic, psfs, respond
from tests.prescriptions.csv_support import csv_text

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 6, 14, tzinfo=UTC)
DASH = "\N{EN DASH}"  # what a page shows for no figure


def at(days: int) -> datetime:
    return START + timedelta(days=days)


def patient_page(user, patient) -> str:
    response = signed_in(user).get(f"/staff/patients/{patient.id}/")
    assert response.status_code == 200
    return response.content.decode()


def card(page: str) -> str:
    return re.search(
        r'<section class="card" aria-labelledby="outcomes-title".*?</section>', page, re.S
    )[0]


def test_outcomes_registers_its_parts_with_prescriptions():
    registry = extensions.registry
    assert [s.template for s in registry.patient_sections] == [
        "outcomes/staff_patient_outcomes.html"
    ]
    assert [c.label for c in registry.clinic_columns] == ["PSFS change"]
    assert "questionnaire_responses" in registry.export_sections
    assert registry.fhir_resources


def test_the_patient_page_draws_each_instrument_with_its_band_and_verdict(clinician_a, patient_a):
    respond(patient_a, "psfs", psfs(3, 4, 2), at(0))
    respond(patient_a, "psfs", psfs(5, 6, 4), at(14))
    respond(patient_a, "psfs", psfs(6, 7, 5), at(28))
    respond(patient_a, "pgic", pgic(2), at(14))

    section = card(patient_page(clinician_a, patient_a))

    assert "Patient-Specific Functional Scale" in section
    assert "Patient Global Impression of Change" in section
    # The responder flag in words, with the figures it rests on.
    assert (
        '<strong class="good">Responder.</strong> 3.0 at the start (Apr 6), 6.0 now (May 4): +3.0'
        in section
    )
    assert "Latest answer “Clearly better”" in section
    # The band, the baseline, a shape per answer, and the table instead of the picture.
    assert section.count('<rect class="band"') == 1
    assert "baseline 3.0" in section
    assert section.count('class="outcome-baseline"') == 1 + 1  # the point and its legend
    assert section.count('<path class="outcome-better"') == 2 + 1 + 2  # PSFS 2, PGIC 1, legends
    row = '<td>Mon May 4, 2026</td><td class="num">6.0</td><td class="num">+3.0</td>'
    assert f"{row}<td>meaningfully better</td>" in section


def test_the_patient_page_says_worse_and_baseline_only(clinician_a, patient_a, other_patient):
    respond(patient_a, "psfs", psfs(6, 6, 6), at(0))
    respond(patient_a, "psfs", psfs(3, 4, 3), at(14))
    respond(other_patient, "psfs", psfs(5), at(0))

    assert "Worse than at the start." in card(patient_page(clinician_a, patient_a))
    assert "Baseline only." in card(patient_page(clinician_a, other_patient))


def test_the_card_says_when_nothing_was_answered(clinician_a, patient_a):
    assert "No questionnaire answered yet." in card(patient_page(clinician_a, patient_a))


def test_another_clinics_patient_page_is_not_found(clinician_b, patient_a):
    respond(patient_a, "psfs", psfs(3, 4, 2), at(0))

    assert signed_in(clinician_b).get(f"/staff/patients/{patient_a.id}/").status_code == 404


def count_queries(user, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert signed_in(user).get(path).status_code == 200
    return len(queries)


def test_the_patient_page_costs_the_same_however_many_answers(clinician_a, patient_a):
    respond(patient_a, "psfs", psfs(3), at(0))
    few = count_queries(clinician_a, f"/staff/patients/{patient_a.id}/")
    for n in range(1, 12):
        respond(patient_a, "psfs", psfs(3 + n % 5), at(14 * n))
        respond(patient_a, "pgic", pgic(1 + n % 7), at(14 * n))

    assert count_queries(clinician_a, f"/staff/patients/{patient_a.id}/") == few


def clinic_page(user, **params) -> str:
    return signed_in(user).get("/staff/", params).content.decode()


def row_of(page: str, name: str) -> str:
    return re.search(rf"<tr>\s*<td class=\"name\">\s*<a [^>]*>{name}</a>.*?</tr>", page, re.S)[0]


def test_the_clinic_table_shows_each_patients_latest_psfs_change(staff_a, clinic_a, patient_b):
    better = PatientFactory(clinic=clinic_a, first_name="Ada", last_name="Better")
    worse = PatientFactory(clinic=clinic_a, first_name="Bo", last_name="Worse")
    started = PatientFactory(clinic=clinic_a, first_name="Cy", last_name="Started")
    PatientFactory(clinic=clinic_a, first_name="Di", last_name="Never")
    respond(better, "psfs", psfs(2, 3, 4), at(0))
    respond(better, "psfs", psfs(4, 4, 4), at(14))
    respond(better, "psfs", psfs(6, 6, 6), at(28))
    respond(worse, "psfs", psfs(6, 6, 6), at(0))
    respond(worse, "psfs", psfs(3, 3, 3), at(14))
    respond(started, "psfs", psfs(5), at(0))
    respond(patient_b, "psfs", psfs(1), at(0))

    page = clinic_page(staff_a)

    assert '<th class="num nowrap wide-only">PSFS change</th>' in page
    assert '3.0 → 6.0 <span class="good">(+3.0 better)</span>' in row_of(page, "Ada Better")
    assert '6.0 → 3.0 <span class="poor">(-3.0 worse)</span>' in row_of(page, "Bo Worse")
    assert '5.0 <span class="muted">(baseline)</span>' in row_of(page, "Cy Started")
    assert f'<span class="muted">{DASH}</span></td>' in row_of(page, "Di Never")


def test_the_clinic_csv_carries_each_patients_psfs_figures(clinician_a, clinic_a):
    better = PatientFactory(clinic=clinic_a, first_name="Ada", last_name="Better")
    started = PatientFactory(clinic=clinic_a, first_name="Cy", last_name="Started")
    never = PatientFactory(clinic=clinic_a, first_name="Di", last_name="Never")
    respond(better, "psfs", psfs(2, 3, 4), at(0))
    respond(better, "psfs", psfs(6, 6, 6), at(28))
    respond(started, "psfs", psfs(5), at(0))

    response = client_for(clinician_a).get("/api/v1/adherence/", {"format": "csv"})

    rows = {row["patient"]: row for row in csv.DictReader(io.StringIO(csv_text(response)))}
    figures = ("psfs_baseline", "psfs_latest", "psfs_change", "psfs_responder")
    assert [rows[str(better.id)][name] for name in figures] == ["3.0", "6.0", "3.0", "true"]
    assert [rows[str(started.id)][name] for name in figures] == ["5.0", "", "", ""]
    assert [rows[str(never.id)][name] for name in figures] == ["", "", "", ""]


def test_the_clinic_csv_reads_the_psfs_in_one_query(clinic_a, clinic_b, django_assert_num_queries):
    """The CSV asks for the clinic's PSFS figures once: one query however many patients and
    answers the clinic holds, and none of another clinic's."""
    patients = [PatientFactory(clinic=clinic_a) for _ in range(4)]
    for n, patient in enumerate(patients):
        for week in range(n * 3):
            respond(patient, "psfs", psfs(week % 10), at(7 * week))

    elsewhere = PatientFactory(clinic=clinic_b)
    respond(elsewhere, "psfs", psfs(4), at(0))

    with django_assert_num_queries(1):
        none, found = extensions.clinic_csv_found(clinic_a.id)

    cells = {patient.id: found.get(patient.id, none) for patient in [*patients, elsewhere]}
    assert cells[patients[0].id] == ["", "", "", ""]
    assert cells[patients[3].id][:2] == [Decimal("0.0"), Decimal("8.0")]
    assert cells[elsewhere.id] == ["", "", "", ""]


def test_the_clinic_page_sums_up_outcomes_per_instrument(staff_a, clinic_a, patient_b):
    for n, (first, last) in enumerate([(2, 6), (3, 4), (6, 3)]):
        patient = PatientFactory(clinic=clinic_a)
        respond(patient, "psfs", psfs(first), at(0))
        respond(patient, "psfs", psfs(last), at(28 + n))
        respond(patient, "pgic", pgic(2 if n == 0 else 4), at(0))
        respond(patient, "pgic", pgic(1 if n == 0 else 4), at(30))
    respond(patient_b, "psfs", psfs(0), at(0))
    respond(patient_b, "psfs", psfs(10), at(30))

    table = re.search(r'<table id="outcomes-table">.*?</table>', clinic_page(staff_a), re.S)[0]
    cells = [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        if "<td" in row
    ]

    assert cells == [
        ["Patient Global Impression of Change", "3", "3", "1 (33.3 %)", DASH],
        ["Patient-Specific Functional Scale", "3", "3", "1 (33.3 %)", "+1.0"],
    ]


@pytest.mark.parametrize("answers", [1, 4])
def test_the_clinic_page_costs_the_same_however_many_patients_and_answers(
    staff_a, clinic_a, answers
):
    def build(n):
        for _ in range(n):
            patient = PatientFactory(clinic=clinic_a)
            for k in range(answers):
                respond(patient, "psfs", psfs(2 + k), at(14 * k))
                respond(patient, "pgic", pgic(4), at(14 * k))

    build(2)
    signed_in(staff_a).get("/staff/")  # the first read writes the patients' ledger
    few = count_queries(staff_a, "/staff/")
    build(30)
    signed_in(staff_a).get("/staff/")

    assert count_queries(staff_a, "/staff/") == few


def test_the_clinic_pages_csv_is_the_apis_with_a_byte_order_mark(staff_a, clinician_a, patient_a):
    respond(patient_a, "psfs", psfs(3), at(0))
    respond(patient_a, "psfs", psfs(6), at(28))

    web = signed_in(staff_a).get("/staff/outcomes.csv")
    api = client_for(clinician_a).get("/api/v1/outcomes/", {"format": "csv"})

    assert web.status_code == 200
    assert web["Content-Type"].startswith("text/csv")
    assert web.content.decode("utf-8") == "\ufeff" + api.content.decode("utf-8")
    assert 'href="/staff/outcomes.csv"' in clinic_page(staff_a)


def test_the_clinic_pages_csv_is_for_the_clinic_team_only(patient_a, anon):
    assert signed_in(patient_a.user).get("/staff/outcomes.csv").status_code in (302, 403, 404)
    assert anon.get("/staff/outcomes.csv").status_code == 302
