"""The clinic CSV's lines, built by the database (clinic_csv.line_sql), read as csv.writer
writes the report's rows: the oracle below is the Python that wrote them before, cell by
cell, from the rows the clinic table answers."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from prescriptions import extensions
from prescriptions.adherence import clinic_store, clinic_table
from prescriptions.adherence.clinic_csv import BOM, csv_columns, spreadsheet_safe
from tests.conftest import client_for, signed_in
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory
from tests.prescriptions.csv_support import csv_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

URL = "/api/v1/adherence/"
NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)

# Names a spreadsheet would run as a formula, and names a CSV must quote.
NAMES = [
    ("=HYPERLINK(1)", "-Dash"),
    ("+Plus", "@At"),
    ("\tTab", "\rReturn"),
    ('Say "hi"', "Comma, Jr."),
    ("Two\nLines", "Crlf\r\nEnd"),
    ("Zoë", "Łukasz"),
    ("-Both, at once", '"Quoted"'),
    ("Plain", "Ordinary"),
]
# Each prescribed patient's pain in their first week, then after it.
PAINS = [(2, 7), (8, 3), (4, 5), (6, 5), (5, 5), (3, 9), (7, 6)]


class _Line:
    def write(self, line: str) -> str:
        return line


def _instant(value):
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def oracle_cells(row: dict) -> list:
    pain = row["pain"]
    return [
        row["patient"],
        spreadsheet_safe(row["first_name"]),
        spreadsheet_safe(row["last_name"]),
        row["from"],
        row["to"],
        row["expected_sessions"],
        row["completed_sessions"],
        row["adherence_pct"],
        row["active_days"],
        row["days_with_session"],
        row["current_streak_days"],
        row["extra_sessions"],
        row["night_sessions"],
        pain["baseline"],
        pain["recent"],
        pain["change"],
        "true" if pain["meaningful"] else "false",
        _instant(row["last_check_in"]),
        row["open_alerts"],
        row["prescription_status"],
        row["adherence_pct_7d"],
    ]


def oracle_csv(clinic, **range_) -> str:
    """The CSV as Python wrote it from the rows, cell by cell."""
    writer = csv.writer(_Line())
    none, found = extensions.clinic_csv_found(clinic.id)
    rows = clinic_table.clinic_adherence(clinic_id=clinic.id, **range_)[:]
    return writer.writerow(csv_columns()) + "".join(
        writer.writerow(oracle_cells(row) + found.get(row["patient"], none)) for row in rows
    )


@pytest.fixture
def hostile_clinic(clinic_a):
    """Patients with every kind of name, and figures of every kind: pain down (a negative
    change), up, none at all; check-ins on instants with and without microseconds."""
    for n, (first, last) in enumerate(NAMES):
        patient = PatientFactory(clinic=clinic_a, first_name=first, last_name=last)
        if n == len(NAMES) - 1:
            continue  # never prescribed: every figure empty
        start = date(2026, 4, 20 + n)
        rx = PrescriptionFactory(patient=patient, start_date=start)
        for d in range(0, 20 - n, 1 + n % 3):
            at = datetime(2026, 4, 20 + n, 11, 30, n * 7, n * 12345, tzinfo=UTC) + timedelta(d)
            pain = PAINS[n][0] if d < 7 else PAINS[n][1]
            CheckInFactory(prescription=rx, slot="morning", performed_at=at, pain_before=pain)
        if n % 4 == 1:
            late = datetime(2026, 5, 9, 20, 0, tzinfo=UTC)
            CheckInFactory(prescription=rx, slot="night", performed_at=late, pain_before=0)
    return clinic_a


def test_it_writes_each_cell_as_python_wrote_it(clinician_a, hostile_clinic):
    response = client_for(clinician_a).get(URL, {"format": "csv"})

    text = csv_text(response)
    assert text == oracle_csv(hostile_clinic)
    # The data has pain changes down and up, meaningful or not, and none.
    rows = list(csv.DictReader(io.StringIO(text)))
    changes = {(row["pain_change"][:1], row["pain_meaningful"]) for row in rows}
    assert {("-", "true"), ("-", "false"), ("", "false")} <= changes
    assert {meaningful for sign, meaningful in changes if sign.isdigit()} == {"true", "false"}


def test_it_writes_the_stored_rows_as_python_wrote_them(clinician_a, hostile_clinic):
    clinic_store.clinic_rows_refresh(clinic_id=hostile_clinic.id)

    response = client_for(clinician_a).get(URL, {"format": "csv"})

    assert csv_text(response) == oracle_csv(hostile_clinic)


def test_it_writes_an_explicit_range_as_python_wrote_it(clinician_a, hostile_clinic):
    response = client_for(clinician_a).get(
        URL, {"format": "csv", "from": "2026-04-25", "to": "2026-05-06"}
    )

    expected = oracle_csv(hostile_clinic, start=date(2026, 4, 25), end=date(2026, 5, 6))
    assert csv_text(response) == expected


def test_the_web_download_is_the_same_lines_after_a_byte_order_mark(staff_a, hostile_clinic):
    response = signed_in(staff_a).get("/staff/adherence.csv")

    body = b"".join(response.streaming_content).decode("utf-8")

    assert body == BOM + oracle_csv(hostile_clinic)
