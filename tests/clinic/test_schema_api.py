"""GET schema/: the OpenAPI document describes the error answers as well as the successes."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def paths(anon):
    response = anon.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()["paths"]


def codes(paths, path, method):
    return set(paths[f"/api/v1/{path}"][method]["responses"])


def test_it_documents_reach_roles_and_bad_input_on_a_detail_change(paths):
    assert {"200", "400", "401", "403", "404"} <= codes(paths, "patients/{id}/", "patch")


def test_it_keeps_the_answers_a_view_documents_itself(paths):
    check_in = paths["/api/v1/check-ins/"]["post"]["responses"]

    assert {"201", "409", "400", "415"} <= set(check_in)
    assert check_in["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BadInput"
    }


def test_it_documents_an_unknown_page_of_a_list(paths):
    assert "404" in codes(paths, "reminders/", "get")


def test_it_asks_no_token_of_sign_in_but_documents_its_throttle(paths):
    answers = codes(paths, "auth/token/", "post")

    assert "429" in answers
    assert "401" not in answers
    # No credentials at all (`[]`), so a typed client calls it without a token.
    assert paths["/api/v1/auth/token/"]["post"]["security"] == []
    assert paths["/api/v1/auth/activate/"]["post"]["security"] == []


def test_it_describes_the_body_of_an_error_a_view_documents_itself(paths):
    conflict = paths["/api/v1/check-ins/"]["post"]["responses"]["409"]
    bad_pause = paths["/api/v1/prescriptions/{id}/pause/"]["post"]["responses"]["400"]

    assert conflict["description"] == "Idempotency-Key reused with a different body"
    assert conflict["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert bad_pause["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BadInput"
    }


@pytest.mark.parametrize(
    "path",
    [
        "patients/{id}/adherence/",
        "adherence/",
        "check-ins/",
        "reminders/",
        "prescriptions/{id}/schedule/",
    ],
)
def test_it_types_a_date_range_as_dates(paths, path):
    parameters = paths[f"/api/v1/{path}"]["get"]["parameters"]
    dates = {p["name"]: p["schema"] for p in parameters if p["name"] in ("from", "to")}

    assert dates == {name: {"type": "string", "format": "date"} for name in ("from", "to")}


@pytest.mark.parametrize(
    ("path", "filters"),
    [
        ("check-ins/", {"patient", "prescription", "slot", "from", "to"}),
        ("reminders/", {"patient", "prescription", "status", "from", "to"}),
        ("alerts/", {"patient", "kind", "acknowledged"}),
    ],
)
def test_it_documents_the_list_filters(paths, path, filters):
    parameters = paths[f"/api/v1/{path}"]["get"]["parameters"]

    assert filters <= {p["name"] for p in parameters if p["in"] == "query"}
