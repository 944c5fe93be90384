"""The patient's page at /staff/patients/{id}/: who may open it, what it shows, its cost."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from prescriptions.models import Alert, Reminder
from tests.conftest import signed_in
from tests.factories import CheckInFactory, PrescriptionFactory, StaffFactory
from tests.prescriptions.bulk import bulk_clinic

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 18, tzinfo=UTC)


def url(patient) -> str:
    return f"/staff/patients/{patient.id}/"


@pytest.fixture
def story(patient_a):
    with time_machine.travel(NOW, tick=False):
        rx = PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 1))
        CheckInFactory(
            prescription=rx,
            slot="morning",
            performed_at=datetime(2026, 5, 18, 11, tzinfo=UTC),
            pain_before=6,
            pain_after=4,
            notes="Stiff after a long drive",
        )
        CheckInFactory(
            prescription=rx,
            slot="night",
            performed_at=datetime(2026, 5, 19, 7, tzinfo=UTC),
            pain_before=7,
            pain_after=5,
            red_flags=["leg_weakness"],
        )
        Alert.objects.create(
            patient=patient_a, kind="red_flag", details={"message": "Leg weakness reported"}
        )
        Alert.objects.create(
            patient=patient_a,
            kind="no_check_in",
            acknowledged_at=NOW - timedelta(days=2),
            note="Called her: back from holiday",
        )
        Reminder.objects.create(
            prescription=rx,
            slot="morning",
            local_date=date(2026, 5, 19),
            fire_at=datetime(2026, 5, 19, 11, tzinfo=UTC),
            channel="sms",
            status="failed",
            reason="The SMS gateway refused the number",
        )
    return rx


def test_it_shows_the_patients_record_to_the_clinic_team(clinician_a, patient_a, story):
    with time_machine.travel(NOW, tick=False):
        page = signed_in(clinician_a).get(url(patient_a)).content.decode()

    assert "Ada Moss" in page
    assert "Stiff after a long drive" in page
    assert "New or worsening leg weakness" in page
    assert "Leg weakness reported" in page
    assert "Called her: back from holiday" in page
    assert '<tr class="failed">' in page
    assert "The SMS gateway refused the number" in page
    assert "Pause now" in page


def test_it_draws_one_mark_per_day_of_the_range_with_a_table_behind_each_chart(
    staff_a, patient_a, story
):
    with time_machine.travel(NOW, tick=False):
        response = signed_in(staff_a).get(
            url(patient_a), {"from": "2026-05-06", "to": "2026-05-19"}
        )
    page = response.content.decode()

    chart = page.split('id="adherence-chart"')[1].split("</svg>")[0]
    assert len(re.findall(r'<g class="day" data-date="', chart)) == 14
    assert 'data-date="2026-05-06"' in chart and 'data-date="2026-05-19"' in chart
    assert page.count('<details class="data">') == 3
    assert 'role="img"' in page


def test_it_shows_staff_the_page_without_any_action(staff_a, patient_a, story):
    with time_machine.travel(NOW, tick=False):
        page = signed_in(staff_a).get(url(patient_a)).content.decode()

    assert "Leg weakness reported" in page
    # The one form that posts is signing out; no link to a clinician's form either.
    assert page.count('method="post"') == 1
    assert 'action="/staff/logout/"' in page
    assert "/plan/" not in page and "/prescribe/" not in page


@pytest.mark.parametrize(
    "end_date", [date(2026, 5, 19), pytest.param(None, id="ended by the clinician")]
)
def test_it_offers_no_status_change_for_an_ended_prescription(clinician_a, patient_a, end_date):
    with time_machine.travel(NOW, tick=False):
        rx = PrescriptionFactory(patient=patient_a, start_date=date(2026, 5, 1), end_date=end_date)
        if end_date is None:
            signed_in(clinician_a).post(
                f"/staff/prescriptions/{rx.id}/end/", {"reason": "Pain gone"}
            )
        page = signed_in(clinician_a).get(url(patient_a)).content.decode()

    assert not re.findall(r'action="[^"]*/(?:pause|resume|end)/"', page)
    assert "This prescription has ended." in page
    assert f'href="/staff/patients/{patient_a.id}/prescribe/"' in page


@pytest.mark.parametrize("persona", ["clinician_b"])
def test_it_answers_404_to_another_clinic(request, persona, patient_a):
    response = signed_in(request.getfixturevalue(persona)).get(url(patient_a))

    assert response.status_code == 404


def test_it_answers_404_to_another_clinics_staff(clinic_b, patient_a):
    response = signed_in(StaffFactory(clinic=clinic_b)).get(url(patient_a))

    assert response.status_code == 404


def test_it_keeps_a_patient_out(patient_a):
    response = signed_in(patient_a.user).get(url(patient_a))

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")


def test_it_names_the_field_of_a_bad_range(staff_a, patient_a):
    response = signed_in(staff_a).get(url(patient_a), {"from": "2026-05-10", "to": "2026-05-01"})

    assert response.status_code == 400
    assert 'id="id_from_error"' in response.content.decode()


@pytest.mark.parametrize("patients", [10, 1000])
def test_it_reads_the_page_in_the_same_queries_however_big_the_clinic(
    django_assert_num_queries, clinic_a, clinician_a, patients
):
    with time_machine.travel(datetime(2026, 5, 10, 12, tzinfo=UTC), tick=False):
        bulk_clinic(clinic_a, clinician_a, patients, start=date(2026, 5, 1), days=9)
        one = clinic_a.patients.order_by("id").first()
        client = signed_in(clinician_a)
        # Session and user (2); the patient (1); the report (3): the patient's zone and
        # whether their ledger is behind, the figures (the clinic table's statement over
        # this patient), the ledger's rows of the range; check-ins of the range (1);
        # prescriptions with their slots, status and plan history (4); alerts (1);
        # reminders (1); the audit trail shown and its count (2); the audit entry of this
        # read (1); the outcomes card's responses with their questionnaires (1), and what
        # its plans ask for (1).
        with django_assert_num_queries(18):
            response = client.get(url(one))

    assert response.status_code == 200
