"""GET alerts/ and POST alerts/{id}/acknowledge/ for each persona."""

from datetime import UTC, datetime

import pytest
import time_machine

from prescriptions.models import Alert
from tests.conftest import client_for
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"


def ack_url(alert) -> str:
    return f"/api/v1/alerts/{alert.id}/acknowledge/"


@pytest.fixture
def alert_a(patient_a):
    return Alert.objects.create(
        patient=patient_a, kind="low_adherence", details={"adherence_pct": 30.0, "message": "…"}
    )


@pytest.fixture
def alert_b(patient_b):
    return Alert.objects.create(patient=patient_b, kind="no_check_in")


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a"])
def test_it_lists_the_alerts_of_the_callers_clinic(request, persona, alert_a, alert_b):
    body = client_for(request.getfixturevalue(persona)).get(URL).json()

    assert [a["id"] for a in body["results"]] == [alert_a.id]
    assert body["results"][0] == {
        "id": alert_a.id,
        "patient": alert_a.patient_id,
        "prescription": None,
        "kind": "low_adherence",
        "created_at": body["results"][0]["created_at"],
        "details": {"adherence_pct": 30.0, "message": "…"},
        "acknowledged_at": None,
        "acknowledged_by": None,
        "note": "",
    }


def test_it_refuses_the_list_to_patients(patient_a, alert_a):
    assert client_for(patient_a.user).get(URL).status_code == 403


def test_it_asks_for_credentials(anon):
    assert anon.get(URL).status_code == 401


def test_it_filters_by_patient_kind_and_openness(clinician_a, patient_a, other_patient, alert_a):
    ben = Alert.objects.create(patient=other_patient, kind="no_check_in")
    done = Alert.objects.create(
        patient=other_patient, kind="pain_worsening", acknowledged_at=datetime.now(UTC)
    )
    client = client_for(clinician_a)

    def ids(**params):
        return {a["id"] for a in client.get(URL, params).json()["results"]}

    assert ids(patient=other_patient.id) == {ben.id, done.id}
    assert ids(kind="low_adherence") == {alert_a.id}
    assert ids(open="true") == ids(acknowledged="false") == {alert_a.id, ben.id}
    assert ids(open="false") == ids(acknowledged="true") == {done.id}
    assert ids(acknowledged="false", patient=other_patient.id) == {ben.id}


@pytest.mark.parametrize(
    ("name", "value"),
    [("kind", "bored"), ("acknowledged", "maybe"), ("acknowledged", "yes"), ("open", "2")],
)
def test_it_refuses_a_bad_filter_value_naming_it(clinician_a, alert_a, name, value):
    response = client_for(clinician_a).get(URL, {name: value})

    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("value", ["3.85e48", "9223372036854775808", "0"])
def test_it_refuses_a_patient_filter_that_is_no_possible_id(clinician_a, value):
    response = client_for(clinician_a).get(URL, {"patient": value})

    assert response.status_code == 400
    assert "patient" in response.json()


@pytest.mark.parametrize("alerts", [3, 60])
def test_it_lists_with_the_same_queries_however_many_alerts(
    django_assert_num_queries, clinic_a, clinician_a, alerts
):
    patients = [PatientFactory(clinic=clinic_a) for _ in range(3)]
    Alert.objects.bulk_create(
        Alert(patient=patients[i % 3], kind=kind, acknowledged_at=datetime.now(UTC))
        for i in range(alerts // 3)
        for kind in ("no_check_in", "low_adherence", "session_pain")
    )
    client = client_for(clinician_a)

    # Token and user (2), count (1), page (1).
    with django_assert_num_queries(4 + 1):  # + the audit entries, one insert
        response = client.get(URL, {"page_size": 100})

    assert response.json()["count"] == alerts // 3 * 3


@pytest.mark.parametrize("persona", ["clinician_a", "staff_a", "patient_a"])
def test_it_answers_405_to_reading_the_acknowledge_action(request, persona, alert_a):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)

    response = client_for(user).get(ack_url(alert_a))

    assert response.status_code == 405
    assert response.json()["detail"] == 'Method "GET" not allowed.'


def test_it_still_asks_for_credentials_before_naming_the_method(anon, alert_a):
    assert anon.get(ack_url(alert_a)).status_code == 401


@time_machine.travel(datetime(2026, 5, 1, 9, tzinfo=UTC), tick=False)
def test_it_lets_a_clinician_acknowledge_an_alert(clinician_a, alert_a):
    response = client_for(clinician_a).post(ack_url(alert_a))

    assert response.status_code == 200
    assert response.json()["acknowledged_at"] == "2026-05-01T09:00:00Z"
    assert response.json()["acknowledged_by"] == clinician_a.id
    alert_a.refresh_from_db()
    assert alert_a.acknowledged_by == clinician_a


def test_it_keeps_the_note_the_clinician_writes_when_acknowledging(clinician_a, alert_a):
    client = client_for(clinician_a)

    response = client.post(ack_url(alert_a), {"note": "Called the patient; reviewed on Monday."})

    assert response.status_code == 200
    assert response.json()["note"] == "Called the patient; reviewed on Monday."
    shown = client.get(URL).json()["results"][0]
    assert shown["note"] == "Called the patient; reviewed on Monday."


@pytest.mark.parametrize(
    ("body", "field"),
    [({"note": "x" * 2001}, "note"), ({"note": ["a"]}, "note"), ({"notes": "typo"}, "notes")],
)
def test_it_refuses_a_bad_note_and_leaves_the_alert_open(clinician_a, alert_a, body, field):
    response = client_for(clinician_a).post(ack_url(alert_a), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    alert_a.refresh_from_db()
    assert (alert_a.acknowledged_at, alert_a.note) == (None, "")


def test_it_refuses_a_second_acknowledgement(clinician_a, alert_a):
    client = client_for(clinician_a)
    client.post(ack_url(alert_a))

    response = client.post(ack_url(alert_a))

    assert response.status_code == 400
    assert "detail" in response.json()


def test_it_refuses_acknowledgement_to_staff(staff_a, alert_a):
    assert client_for(staff_a).post(ack_url(alert_a)).status_code == 403
    alert_a.refresh_from_db()
    assert alert_a.acknowledged_at is None


def test_it_refuses_acknowledgement_to_patients(patient_a, alert_a):
    assert client_for(patient_a.user).post(ack_url(alert_a)).status_code == 403


def test_it_hides_another_clinics_alert(clinician_a, alert_b):
    assert client_for(clinician_a).post(ack_url(alert_b)).status_code == 404
    alert_b.refresh_from_db()
    assert alert_b.acknowledged_at is None


def test_it_lets_the_rule_raise_again_once_acknowledged(clinician_a, patient_a, alert_a):
    client_for(clinician_a).post(ack_url(alert_a))

    again = Alert.objects.create(patient=patient_a, kind="low_adherence")

    assert Alert.objects.filter(patient=patient_a, kind="low_adherence").count() == 2
    assert again.acknowledged_at is None
