"""The clinic table's CSV: the web page's download opens in a spreadsheet with its names
intact (a UTF-8 byte order mark), the API's stays plain CSV for programs, and both write
`last_check_in` one way."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
import time_machine

from tests.conftest import client_for, signed_in
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 20, tzinfo=UTC)
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def patients(clinic_a):
    with time_machine.travel(datetime(2026, 12, 1, tzinfo=UTC), tick=False):
        zoe = PatientFactory(clinic=clinic_a, first_name="Zoë", last_name="Łukasiewicz")
        ana = PatientFactory(clinic=clinic_a, first_name="Ana", last_name="Nuñez")
        zoe_rx = PrescriptionFactory(patient=zoe, start_date=datetime(2026, 12, 1).date())
        ana_rx = PrescriptionFactory(patient=ana, start_date=datetime(2026, 12, 1).date())
    # One check-in on the whole second, one with microseconds (as a live POST has them).
    CheckInFactory(prescription=zoe_rx, performed_at=datetime(2026, 12, 7, 12, 21, tzinfo=UTC))
    CheckInFactory(
        prescription=ana_rx, performed_at=datetime(2026, 12, 7, 13, 4, 33, 412907, tzinfo=UTC)
    )
    return zoe, ana


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def web_csv(user) -> bytes:
    with time_machine.travel(NOW, tick=False):
        return body(signed_in(user).get("/staff/adherence.csv"))


def api_csv(user) -> bytes:
    with time_machine.travel(NOW, tick=False):
        return body(client_for(user).get("/api/v1/adherence/", {"format": "csv"}))


def test_the_web_download_starts_with_a_byte_order_mark(staff_a, patients):
    data = web_csv(staff_a)

    assert data.startswith(b"\xef\xbb\xbfpatient,first_name,")
    assert data.count(b"\xef\xbb\xbf") == 1
    assert "Zoë,Łukasiewicz" in data.decode("utf-8-sig")


def test_the_api_csv_has_no_byte_order_mark(staff_a, patients):
    data = api_csv(staff_a)

    assert data.startswith(b"patient,first_name,")
    assert b"\xef\xbb\xbf" not in data


def test_both_write_the_last_check_in_one_way_with_or_without_microseconds(staff_a, patients):
    for data in (web_csv(staff_a), api_csv(staff_a)):
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        by_name = {r["first_name"]: r["last_check_in"] for r in rows}

        assert by_name == {"Zoë": "2026-12-07T12:21:00Z", "Ana": "2026-12-07T13:04:33Z"}
        assert all(INSTANT.match(value) for value in by_name.values())
