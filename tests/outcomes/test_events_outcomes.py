"""One door, outcomes: a questionnaire response commits with its
`questionnaire_response.created` event (and a worsening's `alert.raised`); a failure after
the change, before the commit, leaves neither."""

from datetime import UTC, datetime

import pytest

from outcomes.models import QuestionnaireResponse
from prescriptions.models import Alert
from tests.events_support import (
    Boom,
    events_since,
    failing_event_writes,
    last_event_id,
    rolled_back,
)
from tests.outcomes.support import pgic, psfs, respond

pytestmark = pytest.mark.django_db

AT = datetime(2026, 5, 10, 12, tzinfo=UTC)


def test_an_answer_commits_with_its_event(patient_a):
    cursor = last_event_id()

    response = respond(patient_a, "pgic", pgic(2), AT)

    assert events_since(cursor) == [
        (
            "questionnaire_response.created",
            {"patient": patient_a.id, "questionnaire_response": response.id},
        )
    ]


def test_a_worse_score_writes_the_response_then_its_alert(patient_a):
    respond(patient_a, "psfs", psfs(6, 6, 6), AT)
    cursor = last_event_id()

    response = respond(patient_a, "psfs", psfs(2, 2, 2), AT.replace(day=24))

    alert = Alert.objects.get(patient=patient_a, kind="outcome_worsening")
    assert [type for type, _ in events_since(cursor)] == [
        "questionnaire_response.created",
        "alert.raised",
    ]
    assert events_since(cursor)[0][1]["questionnaire_response"] == response.id
    assert events_since(cursor)[1][1]["alert"] == alert.id


def test_a_rolled_back_answer_leaves_no_event(patient_a):
    with rolled_back():
        respond(patient_a, "pgic", pgic(2), AT)
    assert not QuestionnaireResponse.objects.exists()


def test_an_event_that_cannot_be_written_stores_no_answer(patient_a, monkeypatch):
    failing_event_writes(monkeypatch)

    with pytest.raises(Boom):
        respond(patient_a, "pgic", pgic(2), AT)

    assert not QuestionnaireResponse.objects.exists()
