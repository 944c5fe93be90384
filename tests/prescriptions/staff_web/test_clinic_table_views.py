"""The clinic table's search, filters, sort, range, pages and CSV, and what they cost."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from prescriptions import services
from prescriptions.models import Alert, Prescription
from tests.conftest import signed_in
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory
from tests.prescriptions.bulk import bulk_clinic
from tests.prescriptions.csv_support import csv_text

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 18, tzinfo=UTC)


def names(page: str) -> list[str]:
    """The patients' names in the table, top to bottom."""
    table = page.split('id="clinic-table"')[1]
    return re.findall(r'<td class="name">\s*<a href="/staff/patients/\d+/">([^<]+)</a>', table)


@pytest.fixture
def clinic(clinic_a, clinician_a):
    """Four patients: keen Ada, half-hearted Ben (open alert), paused Cleo (red flag),
    and Dan who has not activated his account."""
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        people = {
            name: PatientFactory(clinic=clinic_a, first_name=name, last_name=last)
            for name, last in [("Ada", "Moss"), ("Ben", "Lowe"), ("Cleo", "Hart"), ("Dan", "Ives")]
        }
        rxs = {
            n: PrescriptionFactory(patient=p, start_date=date(2026, 5, 8))
            for n, p in people.items()
        }
    for day in range(10, 20):
        at = datetime(2026, 5, day, 11, tzinfo=UTC)
        CheckInFactory(prescription=rxs["Ada"], slot="morning", performed_at=at)
        CheckInFactory(
            prescription=rxs["Ada"], slot="bedtime", performed_at=at + timedelta(hours=12)
        )
        if day % 2:
            CheckInFactory(prescription=rxs["Ben"], slot="morning", performed_at=at)
    Alert.objects.create(patient=people["Ben"], kind="low_adherence")
    Alert.objects.create(patient=people["Cleo"], kind="red_flag")
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        services.prescription_status_change(
            prescription=rxs["Cleo"], to=Prescription.Status.PAUSED, reason="Red flag"
        )
    people["Dan"].user.is_active = False
    people["Dan"].user.save()
    return people


def get(user, **params):
    with time_machine.travel(NOW, tick=False):
        return signed_in(user).get("/staff/", params)


def test_it_searches_by_name(staff_a, clinic):
    assert names(get(staff_a, q="mos").content.decode()) == ["Ada Moss"]
    assert names(get(staff_a, q="ben lowe").content.decode()) == ["Ben Lowe"]


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("open_alerts", ["Cleo Hart", "Ben Lowe"]),
        ("red_flag", ["Cleo Hart"]),
        ("paused", ["Cleo Hart"]),
        ("not_activated", ["Dan Ives"]),
        ("low_adherence", ["Cleo Hart", "Dan Ives", "Ben Lowe"]),
    ],
)
def test_it_filters_the_table(staff_a, clinic, show, expected):
    assert names(get(staff_a, show=show).content.decode()) == expected


def test_it_sorts_by_a_computed_column_either_way(staff_a, clinic):
    lowest = names(get(staff_a, sort="adherence_pct").content.decode())
    highest = names(get(staff_a, sort="-adherence_pct").content.decode())

    assert lowest[-1] == "Ada Moss"
    assert highest[0] == "Ada Moss"
    assert highest[1] == "Ben Lowe"


def test_it_refuses_a_range_ending_before_it_starts_beside_the_field(staff_a, clinic):
    response = get(staff_a, **{"from": "2026-05-19", "to": "2026-05-10"})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_from_error"' in page
    assert "must not be after" in page


def test_it_computes_every_row_over_a_chosen_range(staff_a, clinic):
    page = get(staff_a, **{"from": "2026-05-10", "to": "2026-05-11", "sort": "-adherence_pct"})

    assert "May 10 \u2013 May 11, 2026" in page.content.decode()
    assert names(page.content.decode())[0] == "Ada Moss"


def test_it_pages_the_table_in_the_server(staff_a, clinic_a):
    for i in range(30):
        PatientFactory(clinic=clinic_a, first_name="P", last_name=f"Name{i:02d}")

    first = get(staff_a).content.decode()
    second = get(staff_a, page=2).content.decode()

    assert len(names(first)) == 25
    assert names(second) == [f"P Name{i:02d}" for i in range(25, 30)]
    assert "Page 2 of 2" in second


def test_it_downloads_the_view_it_shows_as_csv(staff_a, clinic):
    with time_machine.travel(NOW, tick=False):
        response = signed_in(staff_a).get(
            "/staff/adherence.csv", {"show": "open_alerts", "sort": "-adherence_pct"}
        )

    rows = list(csv.DictReader(io.StringIO(csv_text(response))))
    assert [r["first_name"] for r in rows] == ["Ben", "Cleo"]


@pytest.mark.parametrize("patients", [10, 1000])
@pytest.mark.parametrize(("sort", "queries"), [("last_name", 23), ("-adherence_pct", 23)])
def test_it_reads_a_page_in_the_same_queries_however_big_the_clinic(
    django_assert_num_queries, clinic_a, clinician_a, patients, sort, queries
):
    with time_machine.travel(datetime(2026, 5, 10, 12, tzinfo=UTC), tick=False):
        bulk_clinic(clinic_a, clinician_a, patients, start=date(2026, 5, 1), days=9)
        client = signed_in(clinician_a)
        # Session, user and clinic (3); the count (1); the patients' zones and whether the
        # ledger is written up to now (1) and the page's rows sorted in SQL (1), whatever the sort;
        # prescription states of the page (1); the counts of the
        # quick filters (4, and 1 for the prescriptions whose end date passed within a day:
        # they read ended in some zones and not in others, 1 for the archived, 1 for
        # everyone, and 2 for low adherence: the zones and a count over the rows); open
        # alerts (1); failed
        # reminders (1); the audit trail of the patients shown, in one insert (1); the
        # outcomes: the PSFS change of the page's patients (1), and the clinic's summary: the
        # instruments and one row per patient and instrument (2); the webhooks' notice: the
        # clinic's endpoints switched off by failures (1).
        with django_assert_num_queries(queries):
            response = client.get("/staff/", {"sort": sort})

    assert response.status_code == 200
    assert len(names(response.content.decode())) == min(patients, 25)
