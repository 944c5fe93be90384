"""Stored clinic rows (clinic_store.py): the clinic table reads them while they hold, and
every write that can change a figure, every session falling due and every new local date
makes the patient's row computed afresh."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients.services import patient_archive, patient_update
from prescriptions import alerts, checkins, services
from prescriptions.adherence import clinic_store, clinic_table, ledger
from prescriptions.models import Alert, ClinicRow
from tests.clock_changes import CLOCK_CHANGES
from tests.conftest import client_for
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory, knee_rocks
from tests.prescriptions.adherence.test_ledger_property import step as ledger_step

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

URL = "/api/v1/adherence/"
NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)  # 08:00 in New York, its slots at 07:00 and 22:00
SENTINEL = 999


@pytest.fixture
def ada(patient_a):
    """Prescribed on 1 May, every morning done since."""
    rx = PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 1))
    for d in range(1, 11):
        morning = datetime(2026, 5, d, 11, 30, tzinfo=UTC)  # 07:30 EDT
        CheckInFactory(prescription=rx, slot="morning", performed_at=morning, pain_before=4)
    return rx


def computed_table(clinic):
    """The clinic's rows computed from the ledger, never read from the store."""
    return clinic_table.ClinicRows(
        clinic_table.adherence.clinic_patients(clinic.id),
        clinic_id=clinic.id,
        start=None,
        end=None,
        ordering="patient",
        below_pct=None,
        now=datetime.now(UTC),
        stored=False,
    )[:]


def computed(clinic, patient):
    """The patient's row computed from the ledger, never read from the store."""
    return next(row for row in computed_table(clinic) if row["patient"] == patient.id)


def api_row(user, patient, **params):
    body = client_for(user).get(URL, params).json()
    return next(row for row in body["results"] if row["patient"] == patient.id)


def stored_and_marked(clinic):
    """Stores every row, then marks each stored figure: a row read from the store shows
    SENTINEL sessions expected."""
    clinic_store.clinic_rows_refresh(clinic_id=clinic.id)
    ClinicRow.objects.update(expected_sessions=SENTINEL)


def test_the_table_reads_the_stored_rows_while_they_hold(clinician_a, clinic_a, ada):
    stored_and_marked(clinic_a)

    assert api_row(clinician_a, ada.patient)["expected_sessions"] == SENTINEL
    assert (
        api_row(clinician_a, ada.patient, format="json", ordering="-adherence_pct")[
            "expected_sessions"
        ]
        == SENTINEL
    )


def test_stored_rows_give_the_computed_rows_in_every_ordering_and_in_the_csv(
    clinician_a, clinic_a, ada, other_patient, patient_b
):
    PrescriptionFactory(patient=other_patient, start_date=date(2026, 5, 3), paused=True)
    PatientFactory(clinic=clinic_a, first_name="Cleo", last_name="Zane")  # never prescribed
    alerts.alert_raise(Alert(patient=other_patient, kind=Alert.Kind.NO_CHECK_IN))
    client = client_for(clinician_a)
    computed_answers = {}
    for ordering in ["last_name", "-adherence_pct", "current_streak_days", "-pain_change"]:
        computed_answers[ordering] = client.get(URL, {"ordering": ordering}).json()
    computed_csv = client.get(URL, {"format": "csv"}).getvalue()

    assert clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id) == 3

    for ordering, answer in computed_answers.items():
        assert client.get(URL, {"ordering": ordering}).json() == answer, ordering
    assert client.get(URL, {"format": "csv"}).getvalue() == computed_csv
    # Nothing left to compute until something changes.
    assert clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id) == 0


def check_in(rx):
    checkins.checkin_record(
        prescription=rx, slot="night", performed_at=datetime.now(UTC), pain_before=6
    )


def raise_alert(rx):
    alerts.alert_raise(Alert(patient_id=rx.patient_id, kind=Alert.Kind.LOW_ADHERENCE))


def acknowledge_alert(rx):
    alert = Alert.objects.get(patient_id=rx.patient_id)
    alerts.alert_acknowledge(alert=alert, by=rx.clinician)


def pause_yesterday(rx):
    services.prescription_status_change(
        prescription=rx, to="paused", effective=datetime.now(UTC) - timedelta(days=1)
    )


def move_the_bedtime(rx):
    services.prescription_update(
        prescription=rx,
        slots=[{"kind": "morning", "time": time(7)}, {"kind": "bedtime", "time": time(9)}],
    )


def end_it_yesterday(rx):
    services.prescription_update(prescription=rx, end_date=date(2026, 5, 9))


def move_to_london(rx):
    patient_update(patient=rx.patient, timezone_name="Europe/London")


@pytest.mark.parametrize(
    "write",
    [
        check_in,
        raise_alert,
        acknowledge_alert,
        pause_yesterday,
        move_the_bedtime,
        end_it_yesterday,
        move_to_london,
    ],
)
def test_each_write_makes_the_row_computed_afresh(
    clinician_a, clinic_a, ada, write, django_capture_on_commit_callbacks
):
    if write is acknowledge_alert:
        raise_alert(ada)
    stored_and_marked(clinic_a)

    with django_capture_on_commit_callbacks(execute=True):
        write(ada)

    row = api_row(clinician_a, ada.patient)
    assert row["expected_sessions"] != SENTINEL
    assert row["expected_sessions"] == computed(clinic_a, ada.patient)["expected_sessions"]


@pytest.mark.parametrize(
    ("stored_at", "later"),
    [
        # 22:00 in New York: the bedtime session falls due.
        (NOW, datetime(2026, 5, 11, 2, 0, tzinfo=UTC)),
        # 00:00 in New York: a new local date, the range moves on.
        (datetime(2026, 5, 11, 2, 30, tzinfo=UTC), datetime(2026, 5, 11, 4, 0, tzinfo=UTC)),
    ],
    ids=["a session falls due", "a new local date"],
)
def test_a_row_stops_holding_when_time_changes_its_figures(
    clinician_a, clinic_a, ada, frozen_clock, stored_at, later
):
    frozen_clock.move_to(stored_at)
    stored_and_marked(clinic_a)
    frozen_clock.move_to(later - timedelta(seconds=1))
    assert api_row(clinician_a, ada.patient)["expected_sessions"] == SENTINEL

    frozen_clock.move_to(later)

    row = api_row(clinician_a, ada.patient)
    assert row["expected_sessions"] == computed(clinic_a, ada.patient)["expected_sessions"]


def test_a_check_in_while_the_rows_are_computed_is_not_lost(
    clinician_a, clinic_a, ada, monkeypatch
):
    """The refresh computes, a check-in commits, then the refresh stores what it computed
    before: that row must not be read as holding."""
    compute = clinic_table.ClinicRows.to_store

    def computed_then_checked_in(self):
        rows = compute(self)
        check_in(ada)
        return rows

    monkeypatch.setattr(clinic_table.ClinicRows, "to_store", computed_then_checked_in)
    clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id)
    monkeypatch.undo()

    row = api_row(clinician_a, ada.patient)
    assert row["night_sessions"] == 1
    assert row == api_row(clinician_a, ada.patient)  # and so on until the next refresh
    assert clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id) == 1


def test_an_alert_the_periodic_rules_raise_makes_the_row_computed_afresh(
    clinician_a, clinic_a, other_patient
):
    # Prescribed on 1 May and never checked in: the no-check-in and low-adherence rules fire.
    PrescriptionFactory(patient=other_patient, start_date=date(2026, 5, 1))
    stored_and_marked(clinic_a)

    assert len(alerts.evaluate_alerts()) == 2

    row = api_row(clinician_a, other_patient)
    assert row["open_alerts"] == 2
    assert row["expected_sessions"] == computed(clinic_a, other_patient)["expected_sessions"]


def test_archived_patients_rows_are_stored_too(clinician_a, clinic_a, ada):
    patient_archive(patient=ada.patient, by=clinician_a)

    stored_and_marked(clinic_a)

    assert ClinicRow.objects.filter(patient=ada.patient).exists()
    row = api_row(clinician_a, ada.patient, archived="true")
    assert row["expected_sessions"] == SENTINEL


stored_step = st.one_of(
    ledger_step,
    st.tuples(st.just("refresh"), st.just(None)),
    st.tuples(st.just("alert"), st.sampled_from([Alert.Kind.LOW_ADHERENCE, Alert.Kind.RED_FLAG])),
    st.tuples(st.just("acknowledge"), st.just(None)),
)


def apply(what, arg, rx, clinic):
    """One step of a random history, through the services a user's action calls."""
    rx.refresh_from_db()
    try:
        if what == "check_in":
            checkins.checkin_record(
                prescription=rx, slot=arg, performed_at=datetime.now(UTC), pain_before=3
            )
        elif what == "slots":
            slots = [{"kind": k, "time": time.fromisoformat(t)} for k, t in arg.items()]
            services.prescription_update(prescription=rx, slots=slots)
        elif what == "zone":
            patient_update(patient=rx.patient, timezone_name=arg)
        elif what == "status":
            to = "paused" if rx.status == "active" else "active"
            effective = datetime.now(UTC) - timedelta(hours=arg)
            services.prescription_status_change(prescription=rx, to=to, effective=effective)
        elif what == "tick":
            ledger.ledger_tick()
        elif what == "refresh":
            clinic_store.clinic_rows_refresh(clinic_id=clinic.id)
        elif what == "alert":
            alerts.alert_raise(Alert(patient_id=rx.patient_id, kind=arg))
        elif what == "acknowledge":
            for alert in Alert.objects.filter(acknowledged_at__isnull=True):
                alerts.alert_acknowledge(alert=alert, by=rx.clinician)
    except ValidationError:
        pass  # refused (an ended prescription, an instant before the start): nothing changed


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    change=st.sampled_from(CLOCK_CHANGES),
    steps=st.lists(
        st.tuples(st.integers(min_value=0, max_value=16), stored_step),  # hours between
        max_size=12,
    ),
    # The local hour of its first day it was written at: before its 07:00 morning or after
    # (not expected that day), or after its bedtime too.
    written=st.integers(min_value=0, max_value=23),
)
def test_the_table_reads_what_it_would_compute_after_any_history(
    clinic_a, clinician_a, frozen_clock, django_capture_on_commit_callbacks, change, steps, written
):
    zone, changes_on = change
    start = changes_on - timedelta(days=2)
    now = datetime.combine(start, time(written), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    frozen_clock.move_to(now)
    patient = PatientFactory(clinic=clinic_a, timezone=zone)
    rx = services.prescription_create(
        patient=patient,
        clinician=clinician_a,
        protocol=knee_rocks(),
        start_date=start,
        slots=[{"kind": "morning", "time": time(7)}, {"kind": "bedtime", "time": time(21, 30)}],
    )
    clinic_store.clinic_rows_refresh(clinic_id=clinic_a.id)
    for hours, (what, arg) in steps:
        now += timedelta(hours=hours)
        frozen_clock.move_to(now)
        with django_capture_on_commit_callbacks(execute=True):
            apply(what, arg, rx, clinic_a)

        read = clinic_table.clinic_adherence(clinic_id=clinic_a.id, ordering="patient")
        assert read[:] == computed_table(clinic_a), (what, arg)


def admin_form_data(response) -> dict:
    """The POST data of an admin change page as it was shown (the form and its inlines)."""

    def cell(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "on" if value else ""
        return getattr(value, "pk", value)

    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {management.add_prefix(k): v for k, v in management.initial.items()}
        forms += inline.formset.forms
    for form in forms:
        for name in form.fields:
            value = form.initial.get(name, form.fields[name].initial)
            if value is not None and value != "" and value is not False:
                data[form.add_prefix(name)] = cell(value)
    return data


def test_a_prescription_changed_in_the_admin_makes_the_row_computed_afresh(
    admin_client, clinician_a, clinic_a, ada
):
    url = f"/admin/prescriptions/prescription/{ada.id}/change/"
    data = admin_form_data(admin_client.get(url))
    stored_and_marked(clinic_a)

    response = admin_client.post(url, data | {"end_date": "2026-05-05"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    row = api_row(clinician_a, ada.patient)
    assert row["expected_sessions"] == computed(clinic_a, ada.patient)["expected_sessions"]


def test_each_clinic_reads_only_its_own_stored_rows(
    clinician_a, clinician_b, clinic_a, ada, patient_b
):
    PrescriptionFactory(patient=patient_b, start_date=date(2026, 5, 1))
    stored_and_marked(clinic_a)
    clinic_store.clinic_rows_refresh()  # every clinic's

    rows_a = client_for(clinician_a).get(URL).json()["results"]
    rows_b = client_for(clinician_b).get(URL).json()["results"]

    assert [row["patient"] for row in rows_a] == [ada.patient_id]
    assert [row["patient"] for row in rows_b] == [patient_b.id]
    assert rows_a[0]["expected_sessions"] == SENTINEL  # read from the store
