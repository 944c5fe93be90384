import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from prescriptions import checkins
from prescriptions.api.serializers import CheckInSerializer
from prescriptions.models import CheckIn
from tests.conftest import client_for
from tests.factories import CheckInFactory, PatientFactory, PrescriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York (EDT)


@pytest.fixture
def prescription(patient_a):
    return PrescriptionFactory(patient=patient_a, start_date=date(2026, 3, 3))


def check_in(user, to, **fields):
    body = {
        "prescription": to.id,
        "slot": "morning",
        "performed_at": "2026-03-10T07:05:00-04:00",
        "pain_before": 6,
        **fields,
    }
    return client_for(user).post("/api/v1/check-ins/", body)


# --- Recording -------------------------------------------------------------------------


def test_it_answers_what_the_schemas_fields_would_with_the_time_in_the_patients_zone(
    patient_a, prescription
):
    """The answer is written out by hand for speed; DRF's fields, which the schema shows,
    give the same keys and values, the time of the session aside (shown in the patient's
    zone rather than UTC)."""
    answer = check_in(patient_a.user, prescription, pain_after=3, notes="easier").json()

    saved = CheckIn.objects.get(id=answer["id"])
    by_fields = dict(serializers.ModelSerializer.to_representation(CheckInSerializer(), saved))
    assert by_fields.pop("performed_at") == "2026-03-10T11:05:00Z"
    assert answer.pop("performed_at") == "2026-03-10T07:05:00-04:00"
    assert json.dumps(answer) == json.dumps(by_fields)


def test_it_records_a_session_with_its_local_date(patient_a, prescription):
    response = check_in(
        patient_a.user,
        prescription,
        pain_after=3,
        duration_minutes=4,
        heat_used=True,
        notes="Easier than yesterday.",
    )

    assert response.status_code == 201
    body = response.data
    assert body["performed_at"] == "2026-03-10T07:05:00-04:00"
    assert body["local_date"] == "2026-03-10"
    assert (body["pain_before"], body["pain_after"], body["duration_minutes"]) == (6, 3, 4)
    assert (body["heat_used"], body["red_flags"], body["advice"]) == (True, [], None)
    stored = CheckIn.objects.get(id=body["id"])
    assert stored.performed_at == datetime(2026, 3, 10, 11, 5, tzinfo=UTC)
    assert stored.patient == patient_a


def test_it_renders_the_time_in_the_patients_own_offset(patient_a, prescription):
    body = check_in(patient_a.user, prescription, performed_at="2026-03-10T11:05:00Z").data

    assert body["performed_at"] == "2026-03-10T07:05:00-04:00"


def test_it_counts_a_late_bedtime_session_for_the_evening_before(patient_a, prescription):
    body = check_in(
        patient_a.user, prescription, slot="bedtime", performed_at="2026-03-10T01:30:00-04:00"
    ).data

    assert body["local_date"] == "2026-03-09"


def test_it_applies_defaults_for_optional_fields(patient_a, prescription):
    body = check_in(patient_a.user, prescription).data

    assert body["pain_after"] is None
    assert body["duration_minutes"] is None
    assert (body["heat_used"], body["notes"], body["red_flags"]) == (False, "", [])


def test_it_accepts_a_time_a_few_minutes_ahead_of_the_server(patient_a, prescription):
    ahead = (NOW + timedelta(minutes=4)).isoformat()

    assert check_in(patient_a.user, prescription, performed_at=ahead).status_code == 201


def test_it_stores_a_check_in_on_a_paused_prescription(patient_a, prescription):
    prescription.status = "paused"
    prescription.save()

    assert check_in(patient_a.user, prescription).status_code == 201


@pytest.mark.parametrize(
    ("ahead", "status"), [(timedelta(minutes=5), 201), (timedelta(minutes=5, seconds=1), 400)]
)
def test_it_refuses_a_time_only_when_more_than_five_minutes_ahead(
    patient_a, prescription, ahead, status
):
    response = check_in(patient_a.user, prescription, performed_at=(NOW + ahead).isoformat())

    assert response.status_code == status


def paused_at_nine(clinician_a, prescription):
    # 09:00 EDT on 10 March: the 07:00 morning slot had passed while active, bedtime has not.
    url = f"/api/v1/prescriptions/{prescription.id}/pause/"
    response = client_for(clinician_a).post(url, {"effective": "2026-03-10T09:00:00-04:00"})
    assert response.status_code == 200


def today_in_the_report(clinician_a, patient_a):
    url = f"/api/v1/patients/{patient_a.id}/adherence/"
    report = client_for(clinician_a).get(url, {"from": "2026-03-10", "to": "2026-03-10"}).data
    return report["by_day"][0]


def test_it_completes_an_expected_session_with_a_check_in_posted_while_paused(
    patient_a, clinician_a, prescription
):
    paused_at_nine(clinician_a, prescription)

    response = check_in(patient_a.user, prescription, performed_at="2026-03-10T10:30:00-04:00")

    assert response.status_code == 201
    day = today_in_the_report(clinician_a, patient_a)
    assert (day["expected"], day["completed"], day["extra"]) == (1, 1, 0)


def test_it_counts_a_check_in_posted_while_paused_as_extra_when_none_was_expected(
    patient_a, clinician_a, prescription
):
    paused_at_nine(clinician_a, prescription)

    response = check_in(
        patient_a.user, prescription, slot="bedtime", performed_at="2026-03-10T10:30:00-04:00"
    )

    assert response.status_code == 201
    day = today_in_the_report(clinician_a, patient_a)
    assert (day["expected"], day["completed"], day["extra"]) == (1, 0, 1)


def test_it_saves_and_returns_the_advice_of_the_follow_up(patient_a, prescription, monkeypatch):
    seen = []

    def advice(checkin, now, streak=None):
        seen.append(checkin.pain_after)
        return "Make the movement smaller next time."

    monkeypatch.setattr(checkins, "checkin_advice", advice)

    body = check_in(patient_a.user, prescription, pain_before=3, pain_after=7).data

    assert seen == [7]
    assert body["advice"] == "Make the movement smaller next time."
    assert CheckIn.objects.get(id=body["id"]).advice == body["advice"]
    detail = client_for(patient_a.user).get(f"/api/v1/check-ins/{body['id']}/").data
    assert detail["advice"] == body["advice"]


def test_it_tells_the_patient_to_stop_when_a_red_flag_is_reported(patient_a, prescription):
    body = check_in(patient_a.user, prescription, red_flags=["leg_weakness", "fever"]).data

    assert body["red_flags"] == ["leg_weakness", "fever"]
    assert body["advice"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("performed_at", "2026-03-10T07:05:00"),
        ("performed_at", "2026-03-10T15:06:00Z"),
        ("performed_at", "2026-03-03T04:59:00Z"),
        ("performed_at", "this morning"),
        ("slot", "lunch"),
        ("pain_before", 11),
        ("pain_before", -1),
        ("pain_before", 5.5),
        ("pain_before", "5"),
        ("pain_before", None),
        ("pain_after", 11),
        ("duration_minutes", 0),
        ("duration_minutes", 61),
        ("notes", "x" * 2001),
        ("heat_used", "yes"),
        ("red_flags", ["dizzy"]),
        ("red_flags", ["fever", "fever"]),
        ("red_flags", "fever"),
        ("red_flag", ["fever"]),
        ("advice", "none"),
        ("prescription", 999999),
    ],
)
def test_it_refuses_bad_input_naming_the_field(patient_a, prescription, field, value):
    response = check_in(patient_a.user, prescription, **{field: value})

    assert response.status_code == 400
    assert field in response.data
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Incorrect type. Expected pk value, received str."),
        (True, "Incorrect type. Expected pk value, received bool."),
        ({"id": 1}, "Incorrect type. Expected pk value, received dict."),
        ([1], "Incorrect type. Expected pk value, received list."),
        ("", "This field may not be null."),
        (None, "This field may not be null."),
        (-1, 'Invalid pk "-1" - object does not exist.'),
        (10**30, f'Invalid pk "{10**30}" - object does not exist.'),
    ],
)
def test_it_answers_a_prescription_that_is_not_one_as_drfs_related_field_does(
    patient_a, prescription, value, message
):
    response = check_in(patient_a.user, prescription, prescription=value)

    assert response.status_code == 400
    assert response.json() == {"prescription": [message]}


def test_it_takes_the_prescriptions_id_written_as_text(patient_a, prescription):
    response = check_in(patient_a.user, prescription, prescription=str(prescription.id))

    assert response.status_code == 201
    assert response.json()["prescription"] == prescription.id


@pytest.mark.parametrize("field", ["prescription", "slot", "performed_at", "pain_before"])
def test_it_requires_the_essentials(patient_a, prescription, field):
    body = {
        "prescription": prescription.id,
        "slot": "morning",
        "performed_at": "2026-03-10T07:05:00-04:00",
        "pain_before": 6,
    }
    del body[field]

    response = client_for(patient_a.user).post("/api/v1/check-ins/", body)

    assert response.status_code == 400
    assert field in response.data


def test_it_accepts_the_first_instant_of_the_start_date(patient_a, prescription):
    # 00:00 on 3 March in New York (EST) is 05:00 UTC.
    response = check_in(patient_a.user, prescription, performed_at="2026-03-03T05:00:00Z")

    assert response.status_code == 201


def test_it_refuses_a_check_in_on_an_ended_prescription(patient_a, prescription, clinician_a):
    client_for(prescription.clinician).post(f"/api/v1/prescriptions/{prescription.id}/end/")

    response = check_in(patient_a.user, prescription)

    assert response.status_code == 400
    assert "prescription" in response.data
    assert not CheckIn.objects.exists()


def test_it_refuses_another_patients_prescription_without_saying_it_exists(
    other_patient, prescription
):
    response = check_in(other_patient.user, prescription)

    assert response.status_code == 400
    assert "prescription" in response.data
    assert "not exist" in str(response.data["prescription"])


def test_it_refuses_a_body_that_is_not_json(patient_a, prescription):
    client = client_for(patient_a.user)

    malformed = client.post("/api/v1/check-ins/", "{nope", content_type="application/json")
    as_form = client.post("/api/v1/check-ins/", "slot=morning", content_type="text/plain")

    assert malformed.status_code == 400
    assert as_form.status_code == 415
    assert not CheckIn.objects.exists()


def test_it_lets_only_patients_check_in(clinician_a, staff_a, prescription):
    assert check_in(clinician_a, prescription).status_code == 403
    assert check_in(staff_a, prescription).status_code == 403


# --- Reading ---------------------------------------------------------------------------


def test_it_shows_the_clinic_its_patients_check_ins(
    clinician_a, staff_a, clinician_b, prescription
):
    checkin = CheckInFactory(prescription=prescription)

    for user in (clinician_a, staff_a):
        body = client_for(user).get("/api/v1/check-ins/").data
        assert [row["id"] for row in body["results"]] == [checkin.id]
    assert client_for(clinician_b).get("/api/v1/check-ins/").data["count"] == 0


def test_it_shows_a_patient_only_their_own(patient_a, other_patient, prescription):
    mine = CheckInFactory(prescription=prescription)
    CheckInFactory(prescription=PrescriptionFactory(patient=other_patient))

    body = client_for(patient_a.user).get("/api/v1/check-ins/").data

    assert [row["id"] for row in body["results"]] == [mine.id]


def test_it_hides_check_ins_outside_reach_with_404(clinician_b, other_patient, prescription):
    url = f"/api/v1/check-ins/{CheckInFactory(prescription=prescription).id}/"

    assert client_for(clinician_b).get(url).status_code == 404
    assert client_for(other_patient.user).get(url).status_code == 404


def test_it_filters_by_local_dates_both_ends_included(clinician_a, prescription):
    def at(day, hour):
        return datetime(2026, 3, day, hour, tzinfo=UTC)

    CheckInFactory(prescription=prescription, slot="morning", performed_at=at(5, 12))
    inside = [
        CheckInFactory(prescription=prescription, slot="morning", performed_at=at(6, 12)),
        # 01:00 local on the 8th, a late bedtime session: it counts for the 7th.
        CheckInFactory(prescription=prescription, slot="bedtime", performed_at=at(8, 6)),
    ]
    CheckInFactory(prescription=prescription, slot="morning", performed_at=at(8, 12))

    body = (
        client_for(clinician_a)
        .get("/api/v1/check-ins/", {"from": "2026-03-06", "to": "2026-03-07"})
        .data
    )

    assert sorted(row["id"] for row in body["results"]) == sorted(c.id for c in inside)


def test_it_filters_by_patient_and_prescription(clinician_a, other_patient, prescription):
    theirs = CheckInFactory(prescription=PrescriptionFactory(patient=other_patient))
    CheckInFactory(prescription=prescription)
    client = client_for(clinician_a)

    by_patient = client.get("/api/v1/check-ins/", {"patient": other_patient.id}).data
    by_prescription = client.get(
        "/api/v1/check-ins/", {"prescription": theirs.prescription_id}
    ).data

    assert [row["id"] for row in by_patient["results"]] == [theirs.id]
    assert [row["id"] for row in by_prescription["results"]] == [theirs.id]


def test_it_filters_by_slot(clinician_a, prescription):
    night = CheckInFactory(prescription=prescription, slot="night")
    CheckInFactory(prescription=prescription, slot="morning")

    body = client_for(clinician_a).get("/api/v1/check-ins/", {"slot": "night"}).data

    assert [row["id"] for row in body["results"]] == [night.id]


def test_it_refuses_a_range_that_ends_before_it_begins(clinician_a, prescription):
    CheckInFactory(prescription=prescription)

    response = client_for(clinician_a).get(
        "/api/v1/check-ins/", {"from": "2026-03-08", "to": "2026-03-07"}
    )

    assert response.status_code == 400
    assert response.data == {"from": ["`from` must not be after `to`."]}


@pytest.mark.parametrize("name", ["from", "to", "patient", "prescription", "slot"])
def test_it_refuses_a_bad_filter_naming_it(clinician_a, name):
    response = client_for(clinician_a).get("/api/v1/check-ins/", {name: "2026-02-30x"})

    assert response.status_code == 400
    assert name in response.data


@pytest.mark.parametrize("name", ["patient", "prescription"])
@pytest.mark.parametrize("value", ["3.85e48", "-6e38", "9223372036854775808", "1.5"])
def test_it_refuses_an_id_filter_that_is_no_possible_id(clinician_a, name, value):
    response = client_for(clinician_a).get("/api/v1/check-ins/", {name: value})

    assert response.status_code == 400
    assert name in response.data


@pytest.mark.parametrize("rows", [2, 20])
def test_it_lists_in_a_constant_number_of_queries(clinician_a, rows):
    for patient in PatientFactory.create_batch(rows, clinic=clinician_a.clinic):
        CheckInFactory(prescription=PrescriptionFactory(patient=patient))
    client = client_for(clinician_a)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/check-ins/", {"page_size": 100})

    assert response.data["count"] == rows
    assert len(queries) == 5  # token, user, count, page, audit entries
