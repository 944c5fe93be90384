"""The patient's side: the card on /my/, the answer page, the signed link from a reminder,
and outcomes in plain words."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from outcomes import links
from outcomes.models import QuestionnaireResponse
from outcomes.schedules import schedule_defaults_create
from tests.conftest import signed_in
from tests.factories import PrescriptionFactory
from tests.outcomes.support import pgic, psfs, respond

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

START = date(2024, 6, 1)
NOW = datetime(2024, 6, 15, 16, 0, tzinfo=UTC)  # day 14, noon in New York
DAY_14 = date(2024, 6, 15)


@pytest.fixture
def prescription(patient_a):
    prescription = PrescriptionFactory(patient=patient_a, start_date=START)
    schedule_defaults_create(prescription)
    return prescription


def baseline(patient):
    return respond(
        patient,
        "psfs",
        psfs(3, 4, labels=("Putting on socks", "Climbing stairs")),
        datetime(2024, 6, 1, 15, tzinfo=UTC),
    )


def test_my_page_shows_a_card_with_each_due_questionnaire(prescription, patient_a):
    page = signed_in(patient_a.user).get("/my/").content.decode()
    assert "How you are doing" in page
    assert 'href="/my/questionnaires/psfs/"' in page
    assert 'href="/my/questionnaires/pgic/"' in page


def test_no_card_without_a_schedule_or_an_answer(patient_a):
    PrescriptionFactory(patient=patient_a, start_date=START)
    assert "How you are doing" not in signed_in(patient_a.user).get("/my/").content.decode()


def test_the_baseline_asks_for_the_activities_and_stores_them(prescription, patient_a):
    client = signed_in(patient_a.user)
    page = client.get("/my/questionnaires/psfs/").content.decode()
    assert 'name="psfs-activity_1_label"' in page
    response = client.post(
        "/my/questionnaires/psfs/",
        {"psfs-activity_1_label": "Putting on socks", "psfs-activity_1": "3"},
    )
    assert response.status_code == 302
    [stored] = QuestionnaireResponse.objects.all()
    assert stored.answers == [{"item": "activity_1", "value": 3, "label": "Putting on socks"}]
    home = client.get("/my/").content.decode()
    assert "You rated putting on socks 3 at the start." in home
    assert 'href="/my/questionnaires/psfs/"' not in home


def test_a_follow_up_shows_the_activities_named_at_the_start_as_fixed_words(
    prescription, patient_a
):
    baseline(patient_a)
    page = signed_in(patient_a.user).get("/my/questionnaires/psfs/").content.decode()
    assert "Putting on socks" in page and "Climbing stairs" in page
    assert "_label" not in page  # nothing to rename
    assert 'name="psfs-activity_3"' not in page  # not named at the start, not asked


def test_a_bad_answer_is_a_400_naming_the_item_and_stores_nothing(prescription, patient_a):
    client = signed_in(patient_a.user)
    # A rating without the activity it rates.
    response = client.post("/my/questionnaires/psfs/", {"psfs-activity_2": "5"})
    assert response.status_code == 400
    page = response.content.decode()
    item = page[page.index('data-item="activity_2"') :]
    assert "Name the activity" in item[: item.index("</fieldset>")]
    # A value out of range.
    response = client.post(
        "/my/questionnaires/psfs/", {"psfs-activity_1_label": "Socks", "psfs-activity_1": "11"}
    )
    assert response.status_code == 400
    assert 'data-item="activity_1"' in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_the_pgic_offers_seven_choices_in_words(prescription, patient_a):
    page = signed_in(patient_a.user).get("/my/questionnaires/pgic/").content.decode()
    for words in ("A great deal better", "About the same", "A great deal worse"):
        assert words in page
    assert page.count('type="radio" name="pgic-change"') == 7


def test_my_page_says_the_outcomes_in_plain_words(prescription, patient_a):
    baseline(patient_a)
    respond(patient_a, "psfs", psfs(7, 4, labels=(None, None)), NOW - timedelta(hours=1))
    respond(patient_a, "pgic", pgic(2), NOW - timedelta(hours=1))
    page = signed_in(patient_a.user).get("/my/").content.decode()
    assert "You rated putting on socks 3 at the start, 7 now." in page
    assert "You rated climbing stairs 4 at the start, 4 now." in page
    assert "Last time you said your back was clearly better." in page


def test_a_questionnaire_not_due_sends_the_patient_back_to_their_page(prescription, patient_a):
    response = signed_in(patient_a.user).get("/my/questionnaires/odi/")
    assert response.status_code == 302 and response.url == "/my/"


# --- The link from a reminder, signed out ------------------------------------------------


def link(patient, on=DAY_14):
    return f"/q/{links.questionnaire_token(patient.id, on)}/"


def test_the_link_opens_signed_out_and_takes_each_due_questionnaire_in_turn(
    prescription, patient_a
):
    baseline(patient_a)
    client = Client(enforce_csrf_checks=True)
    page = client.get(link(patient_a)).content.decode()
    assert "Patient Global Impression of Change" in page
    assert "2 short questionnaires to go" in page

    response = client.post(link(patient_a), {"questionnaire": "pgic", "pgic-change": "3"})
    assert response.status_code == 302
    page = client.get(link(patient_a)).content.decode()
    assert "Putting on socks" in page

    response = client.post(
        link(patient_a),
        {"questionnaire": "psfs", "psfs-activity_1": "6", "psfs-activity_2": "5"},
    )
    assert response.status_code == 302
    assert "Thank you, Ada" in client.get(link(patient_a)).content.decode()
    assert QuestionnaireResponse.objects.filter(patient=patient_a).count() == 3


def test_the_link_answers_a_400_naming_the_item_and_stores_nothing(prescription, patient_a):
    response = Client().post(link(patient_a), {"questionnaire": "pgic", "pgic-change": "9"})
    assert response.status_code == 400
    assert 'data-item="change"' in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_a_tampered_link_opens_nothing(prescription, patient_a, other_patient):
    token = links.questionnaire_token(patient_a.id, DAY_14)
    _, _, mac = token.partition(".")
    forged = f"{links._base36(other_patient.id)}-{token.split('-')[1].split('.')[0]}.{mac}"
    for bad in (forged, token[:-2], "x"):
        response = Client().get(f"/q/{bad}/")
        assert response.status_code == 200
        assert "We could not open this link" in response.content.decode()
    response = Client().post(f"/q/{forged}/", {"questionnaire": "pgic", "pgic-change": "3"})
    assert not QuestionnaireResponse.objects.exists()


def test_a_link_shows_only_its_own_patients_questionnaires(prescription, patient_a, other_patient):
    baseline(patient_a)
    other = PrescriptionFactory(patient=other_patient, start_date=START)
    schedule_defaults_create(other)
    page = Client().get(link(other_patient)).content.decode()
    assert "Putting on socks" not in page and "Ada" not in page


def test_a_link_runs_out_two_weeks_after_its_day(prescription, patient_a, frozen_clock):
    frozen_clock.move_to(NOW + timedelta(days=14))
    assert "This link has run out" in Client().get(link(patient_a)).content.decode()
