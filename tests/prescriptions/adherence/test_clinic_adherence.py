"""GET adherence/: the clinic's report, one row per patient, sorted, filtered and exported."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from rest_framework import serializers

from prescriptions.adherence import clinic_table
from prescriptions.api.adherence import ClinicRowSerializer
from prescriptions.models import Alert
from tests.conftest import client_for
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory
from tests.prescriptions.bulk import bulk_clinic
from tests.prescriptions.csv_support import csv_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

URL = "/api/v1/adherence/"
NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)  # 08:00 in New York


@pytest.fixture
def clinic_rows(clinic_a, patient_a, other_patient, patient_b):
    """Ada did every session from 1 May, Ben only mornings; Cleo was never prescribed."""
    ada = PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 1))
    ben = PrescriptionFactory(patient=other_patient, start_date=date(2026, 5, 1))
    for d in range(1, 11):
        morning = datetime(2026, 5, d, 11, 30, tzinfo=UTC)  # 07:30 EDT
        CheckInFactory(prescription=ada, slot="morning", performed_at=morning, pain_before=4)
        CheckInFactory(prescription=ben, slot="morning", performed_at=morning, pain_before=6)
        if d < 10:
            bedtime = datetime(2026, 5, d + 1, 2, 30, tzinfo=UTC)  # 22:30 EDT
            CheckInFactory(prescription=ada, slot="bedtime", performed_at=bedtime, pain_before=4)
    PrescriptionFactory(patient=patient_b, start_date=date(2026, 5, 1))
    cleo = PatientFactory(clinic=clinic_a, first_name="Cleo", last_name="Zane")
    return {"ada": patient_a, "ben": other_patient, "cleo": cleo}


def test_it_answers_no_rows_when_no_patient_has_an_open_alert(clinician_a, clinic_rows):
    response = client_for(clinician_a).get(URL, {"has_open_alerts": "true"})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_it_answers_a_clinic_without_patients_with_no_rows(clinician_b):
    response = client_for(clinician_b).get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 0


def rows_by_patient(body):
    return {row["patient"]: row for row in body["results"]}


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a"])
def test_it_answers_the_clinic_team_a_row_per_patient_of_their_clinic(
    request, persona, clinic_rows
):
    user = request.getfixturevalue(persona)

    body = client_for(user).get(URL).json()

    assert body["count"] == 3
    assert set(rows_by_patient(body)) == {p.id for p in clinic_rows.values()}


def test_it_renders_each_row_as_the_schemas_fields_would(clinician_a, clinic_a, clinic_rows):
    """The rows are written out by hand for speed; DRF's fields, which the schema shows,
    must give the same answer."""
    Alert.objects.create(patient=clinic_rows["ben"], kind="no_check_in")
    rows = clinic_table.clinic_adherence(clinic_id=clinic_a.id)

    for row in rows:
        written = ClinicRowSerializer(row).data
        by_fields = serializers.Serializer.to_representation(ClinicRowSerializer(), row)
        assert json.dumps(written) == json.dumps(by_fields)
    assert {r["last_check_in"] is None for r in rows} == {True, False}
    assert {r["prescription_status"] for r in rows} == {"active", None}


def test_it_refuses_patients(patient_a):
    assert client_for(patient_a.user).get(URL).status_code == 403


def test_it_asks_for_credentials(anon):
    assert anon.get(URL).status_code == 401


def test_it_gives_a_never_prescribed_patient_a_row_with_nothing_expected(clinician_a, clinic_rows):
    row = rows_by_patient(client_for(clinician_a).get(URL).json())[clinic_rows["cleo"].id]

    assert row["expected_sessions"] == 0
    assert row["adherence_pct"] is None
    assert row["last_check_in"] is None
    assert "by_day" not in row


def test_it_agrees_with_each_patients_own_report(clinician_a, clinic_rows):
    client = client_for(clinician_a)
    params = {"from": "2026-04-25", "to": "2026-05-10"}

    rows = rows_by_patient(client.get(URL, params).json())

    for patient in clinic_rows.values():
        own = client.get(f"/api/v1/patients/{patient.id}/adherence/", params).json()
        del own["by_day"]
        assert {k: rows[patient.id][k] for k in own} == own


def test_it_agrees_with_the_own_report_when_the_pain_baseline_lies_before_the_range(
    clinician_a, clinic_a
):
    patient = PatientFactory(clinic=clinic_a)
    rx = PrescriptionFactory(patient=patient, start_date=date(2026, 3, 1))
    for day, pain in [(1, 7), (3, 8), (20, 2)]:  # 1-7 March: baseline 7.5
        at = datetime(2026, 3, day, 12, tzinfo=UTC)
        CheckInFactory(prescription=rx, slot="other", performed_at=at, pain_before=pain)
    CheckInFactory(
        prescription=rx, slot="other", performed_at=datetime(2026, 5, 9, 12, tzinfo=UTC)
    )  # pain 5: recent 5.0
    client = client_for(clinician_a)
    params = {"from": "2026-05-01", "to": "2026-05-10"}

    row = rows_by_patient(client.get(URL, params).json())[patient.id]
    own = client.get(f"/api/v1/patients/{patient.id}/adherence/", params).json()

    assert own["pain"] == {"baseline": 7.5, "recent": 5.0, "change": -2.5, "meaningful": True}
    assert row["pain"] == own["pain"]


@pytest.mark.parametrize(
    "ordering", ["last_name", "-adherence_pct", "current_streak_days", "pain_change"]
)
def test_it_agrees_with_the_own_report_of_a_patient_with_two_prescriptions_a_day(
    clinician_a, clinic_a, ordering
):
    # Mornings of one, bedtimes of the other, from 1 May: the days they share count once.
    patient = PatientFactory(clinic=clinic_a)
    mornings = PrescriptionFactory(
        patient=patient, start_date=date(2026, 5, 1), slots=[("morning", "07:00")]
    )
    bedtimes = PrescriptionFactory(
        patient=patient, start_date=date(2026, 5, 3), slots=[("bedtime", "21:00")]
    )
    for day in range(1, 11):
        CheckInFactory(
            prescription=mornings,
            slot="morning",
            performed_at=datetime(2026, 5, day, 11, 30, tzinfo=UTC),
            pain_before=day % 4,
        )
        if day not in (4, 6, 10):  # missed on 4 and 6 May; 10 May's is still to come
            CheckInFactory(
                prescription=bedtimes,
                slot="bedtime",
                performed_at=datetime(2026, 5, day + 1, 1, 30, tzinfo=UTC),
            )
    client = client_for(clinician_a)
    params = {"from": "2026-05-01", "to": "2026-05-10"}

    row = rows_by_patient(client.get(URL, {**params, "ordering": ordering}).json())[patient.id]
    own = client.get(f"/api/v1/patients/{patient.id}/adherence/", params).json()

    del own["by_day"]
    assert own["current_streak_days"] == 3
    assert {k: row[k] for k in own} == own


def test_it_gives_each_row_the_patients_own_default_range(clinician_a, clinic_a):
    # 16:00 on 10 May in the clinic's New York is already 01:30 on 11 May in Kolkata.
    patient = PatientFactory(clinic=clinic_a, timezone="Asia/Kolkata")
    rx = PrescriptionFactory(patient=patient, start_date=date(2026, 4, 1))
    for day in range(1, 11):
        CheckInFactory(
            prescription=rx, slot="morning", performed_at=datetime(2026, 5, day, 2, tzinfo=UTC)
        )
    client = client_for(clinician_a)

    with time_machine.travel(datetime(2026, 5, 10, 20, tzinfo=UTC), tick=False):
        row = rows_by_patient(client.get(URL).json())[patient.id]
        own = client.get(f"/api/v1/patients/{patient.id}/adherence/").json()

    assert (own["from"], own["to"]) == ("2026-04-14", "2026-05-11")
    del own["by_day"]
    assert {k: row[k] for k in own} == own


def test_it_computes_each_row_from_the_patients_sessions(clinician_a, clinic_rows):
    rows = rows_by_patient(client_for(clinician_a).get(URL).json())

    # 1-9 May: 2 slots a day (18) + this morning (1) = 19 expected for Ada and Ben.
    # Ada: all 19. Ben: 10 mornings of 19 = 52.6 %.
    assert rows[clinic_rows["ada"].id]["adherence_pct"] == 100.0
    assert rows[clinic_rows["ben"].id]["completed_sessions"] == 10
    assert rows[clinic_rows["ben"].id]["adherence_pct"] == 52.6
    assert rows[clinic_rows["ada"].id]["first_name"] == "Ada"


@pytest.mark.parametrize(
    ("ordering", "names"),
    [
        ("adherence_pct", ["Ben", "Ada", "Cleo"]),
        ("-adherence_pct", ["Ada", "Ben", "Cleo"]),
        ("-current_streak_days", ["Ada", "Ben", "Cleo"]),
        # Ada and Ben last checked in at the same instant: then by name.
        ("-last_check_in", ["Ben", "Ada", "Cleo"]),
        ("last_name", ["Ben", "Ada", "Cleo"]),
    ],
)
def test_it_orders_rows_with_empty_values_last(clinician_a, clinic_rows, ordering, names):
    body = client_for(clinician_a).get(URL, {"ordering": ordering}).json()

    assert [row["first_name"] for row in body["results"]] == names


def test_it_refuses_an_unknown_ordering(clinician_a):
    response = client_for(clinician_a).get(URL, {"ordering": "password"})

    assert response.status_code == 400
    assert "ordering" in response.json()


def test_it_filters_patients_with_open_alerts(clinician_a, clinic_rows):
    Alert.objects.create(patient=clinic_rows["ben"], kind="no_check_in")
    Alert.objects.create(
        patient=clinic_rows["ada"], kind="no_check_in", acknowledged_at=NOW - timedelta(days=1)
    )
    client = client_for(clinician_a)

    with_open = client.get(URL, {"has_open_alerts": "true"}).json()
    without = client.get(URL, {"has_open_alerts": "false"}).json()

    assert [r["patient"] for r in with_open["results"]] == [clinic_rows["ben"].id]
    assert with_open["results"][0]["open_alerts"] == 1
    assert without["count"] == 2
    assert client.get(URL, {"has_open_alerts": "maybe"}).status_code == 400


def test_it_pages_the_rows(clinician_a, clinic_rows):
    body = client_for(clinician_a).get(URL, {"page_size": 2, "ordering": "-adherence_pct"}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None


@pytest.mark.parametrize("ordering", ["last_name", "-last_name", "patient", "-patient"])
def test_it_pages_by_a_patient_column_with_each_row_as_the_whole_table_has_it(
    clinician_a, clinic_rows, ordering
):
    client = client_for(clinician_a)
    whole = client.get(URL, {"ordering": ordering}).json()["results"]

    pages = [
        client.get(URL, {"ordering": ordering, "page_size": 2, "page": n}).json()["results"]
        for n in (1, 2)
    ]

    assert pages[0] + pages[1] == whole


def test_it_exports_every_row_as_csv(clinician_a, clinic_rows):
    response = client_for(clinician_a).get(
        URL, {"format": "csv", "page_size": 1, "from": "2026-05-01", "to": "2026-05-10"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="adherence-riverside-2026-05-01-2026-05-10.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(csv_text(response))))
    assert len(rows) == 3
    ada = next(r for r in rows if r["first_name"] == "Ada")
    assert ada["patient"] == str(clinic_rows["ada"].id)
    assert ada["last_name"] == "Moss"
    assert ada["adherence_pct"] == "100.0"
    # 1-7 May, four each time.
    assert (ada["pain_baseline"], ada["pain_recent"], ada["pain_change"]) == ("4.0", "4.0", "0.0")
    assert ada["pain_meaningful"] == "false"
    assert "pain" not in rows[0]
    assert {"expected_sessions", "current_streak_days", "night_sessions"} <= set(rows[0])


def test_it_exports_each_patients_prescription_status_as_the_api_reads_it(clinician_a, clinic_a):
    client = client_for(clinician_a)

    def prescribed(name, **fields):
        person = PatientFactory(clinic=clinic_a, first_name=name)
        return PrescriptionFactory(patient=person, start_date=date(2026, 5, 1), **fields)

    prescribed("Lapsed", end_date=date(2026, 5, 9))  # never ended by hand
    prescribed("Running", end_date=date(2026, 5, 10))
    paused = prescribed("Paused")
    client.post(f"/api/v1/prescriptions/{paused.id}/pause/", {}, format="json")
    PatientFactory(clinic=clinic_a, first_name="Never")

    response = client.get(URL, {"format": "csv"})

    rows = csv.DictReader(io.StringIO(csv_text(response)))
    assert {row["first_name"]: row["prescription_status"] for row in rows} == {
        "Lapsed": "ended",
        "Running": "active",
        "Paused": "paused",
        "Never": "",
    }


def test_it_keeps_a_name_a_spreadsheet_would_run_as_a_formula_as_text(clinician_a, clinic_a):
    PatientFactory(clinic=clinic_a, first_name="=HYPERLINK(1)", last_name="-Dash")

    response = client_for(clinician_a).get(URL, {"format": "csv"})

    (row,) = csv.DictReader(io.StringIO(csv_text(response)))
    assert (row["first_name"], row["last_name"]) == ("'=HYPERLINK(1)", "'-Dash")


def test_it_refuses_an_unknown_format_naming_it_and_the_choices(clinician_a):
    response = client_for(clinician_a).get(URL, {"format": "xlsx"})

    assert response.status_code == 400
    assert "csv" in response.json()["format"][0]


def test_it_answers_bad_input_as_json_even_when_csv_was_asked(clinician_a):
    response = client_for(clinician_a).get(URL, {"format": "csv", "from": "soon"})

    assert response.status_code == 400
    assert "from" in response.json()


@pytest.mark.parametrize("edge", ["0001-01-01", "9999-12-31"])
def test_it_refuses_dates_at_the_edges_of_the_calendar(clinician_a, clinic_rows, edge):
    response = client_for(clinician_a).get(URL, {"from": edge, "to": edge})

    assert response.status_code == 400
    assert "from" in response.json()


@pytest.mark.parametrize("patients", [10, 500])
@pytest.mark.parametrize("ordering", ["last_name", "-adherence_pct"])
def test_it_uses_the_same_few_queries_for_a_page_however_big_the_clinic(
    django_assert_num_queries, clinic_a, clinician_a, patients, ordering
):
    bulk_clinic(clinic_a, clinician_a, patients, start=date(2026, 5, 7), days=3)
    client = client_for(clinician_a)

    # Token and user (2), clinic (1), count (1), the patients' zones and whether the ledger
    # is written up to now (1), the page's rows sorted in SQL (1), whatever the ordering;
    # the audit entries of the page's patients, one insert (1).
    with django_assert_num_queries(7):
        response = client.get(URL, {"ordering": ordering, "page_size": 100})

    assert response.json()["count"] == patients


@pytest.mark.parametrize("patients", [10, 500])
def test_it_exports_with_the_same_few_queries_however_big_the_clinic(
    django_assert_num_queries, clinic_a, clinician_a, patients
):
    bulk_clinic(clinic_a, clinician_a, patients, start=date(2026, 5, 7), days=3)
    client = client_for(clinician_a)

    # Token and user (2), clinic (1), the patients exported and their audit entries (2),
    # the zones and whether the ledger is written up to now (1), every row from one cursor
    # (1), read while the answer streams, and the PSFS figures outcomes adds, read once for
    # the clinic (1).
    with django_assert_num_queries(8):
        response = client.get(URL, {"format": "csv"})
        text = csv_text(response)

    assert text.count("\n") == patients + 1
