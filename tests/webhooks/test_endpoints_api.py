"""webhooks/ and webhooks/{id}/: a clinician of the clinic registers, reads, changes and
deletes its endpoints; the secret is shown once; bad input is a 400 naming the field."""

import pytest
from django.utils import timezone

from clinic.models import SecurityEvent
from tests.conftest import client_for
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db
URL = "https://hooks.riverside.example.test/knee-rocks"


def test_it_registers_an_endpoint_and_shows_its_secret_once(clinician_a):
    client = client_for(clinician_a)

    created = client.post("/api/v1/webhooks/", {"url": URL, "events": ["alert.raised"]})

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert (body["url"], body["events"], body["is_active"]) == (URL, ["alert.raised"], True)
    endpoint = Endpoint.objects.get(id=body["id"])
    assert endpoint.secret == body["secret"]
    assert endpoint.created_by == clinician_a
    assert "secret" not in client.get(f"/api/v1/webhooks/{endpoint.id}/").json()
    assert "secret" not in client.get("/api/v1/webhooks/").json()["results"][0]
    entry = SecurityEvent.objects.get(actor=clinician_a)
    assert entry.details["webhook"] == {"id": endpoint.id, "change": "added", "url": URL}


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.test/",
        "https://localhost/hooks",
        "https://127.0.0.1/hooks",
        "https://10.0.0.7/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "ftp://hooks.example.test/",
        "not a url",
        "https://user:pass@hooks.example.test/",
    ],
)
def test_it_refuses_an_address_that_is_not_https_on_the_public_internet(clinician_a, url):
    response = client_for(clinician_a).post("/api/v1/webhooks/", {"url": url, "events": ["*"]})

    assert response.status_code == 400
    assert list(response.json()) == ["url"]
    assert not Endpoint.objects.exists()


def test_under_allow_local_it_takes_http_to_this_machine(settings, clinician_a):
    settings.WEBHOOKS_ALLOW_LOCAL = True

    response = client_for(clinician_a).post(
        "/api/v1/webhooks/", {"url": "http://127.0.0.1:9000/hooks", "events": ["*"]}
    )

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "events", [[], ["alert.raisd"], ["*", "alert.raised"], "alert.raised", [7], None]
)
def test_it_refuses_event_types_it_does_not_know(clinician_a, events):
    response = client_for(clinician_a).post(
        "/api/v1/webhooks/", {"url": URL, "events": events}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["events"]


def test_it_changes_the_address_and_the_types(clinician_a, endpoint_for):
    endpoint = endpoint_for(clinician_a.clinic)

    response = client_for(clinician_a).patch(
        f"/api/v1/webhooks/{endpoint.id}/",
        {"url": URL + "/v2", "events": ["patient.enrolled", "alert.raised", "alert.raised"]},
    )

    assert response.status_code == 200, response.content
    assert response.json()["events"] == ["alert.raised", "patient.enrolled"]
    endpoint.refresh_from_db()
    assert endpoint.url == URL + "/v2"


def test_switching_an_endpoint_on_again_clears_its_failures(clinician_a, endpoint_for):
    endpoint = endpoint_for(
        clinician_a.clinic,
        is_active=False,
        failing_since=timezone.now(),
        disabled_at=timezone.now(),
        disabled_reason="Switched off after 24 hours in which every delivery failed.",
    )

    response = client_for(clinician_a).patch(
        f"/api/v1/webhooks/{endpoint.id}/", {"is_active": True}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["is_active"] is True
    assert (body["failing_since"], body["disabled_at"], body["disabled_reason"]) == (None, None, "")


def test_a_bad_change_names_its_field(clinician_a, endpoint_for):
    endpoint = endpoint_for(clinician_a.clinic)
    client = client_for(clinician_a)

    assert list(
        client.patch(f"/api/v1/webhooks/{endpoint.id}/", {"url": "http://x.test/"}).json()
    ) == ["url"]
    assert list(client.patch(f"/api/v1/webhooks/{endpoint.id}/", {"is_active": "yes"}).json()) == [
        "is_active"
    ]
    assert list(client.patch(f"/api/v1/webhooks/{endpoint.id}/", {"secret": "whsec_x"}).json()) == [
        "secret"
    ]


def test_it_deletes_an_endpoint(clinician_a, endpoint_for):
    endpoint = endpoint_for(clinician_a.clinic)

    response = client_for(clinician_a).delete(f"/api/v1/webhooks/{endpoint.id}/")

    assert response.status_code == 204
    assert not Endpoint.objects.exists()


def test_staff_patients_and_another_clinic_are_kept_out(
    clinician_a, staff_a, patient_a, clinician_b, endpoint_for
):
    endpoint = endpoint_for(clinician_a.clinic)
    path = f"/api/v1/webhooks/{endpoint.id}/"

    for user in (staff_a, patient_a.user):
        client = client_for(user)
        assert client.get("/api/v1/webhooks/").status_code == 403
        assert client.get(path).status_code == 403
        assert client.post("/api/v1/webhooks/", {"url": URL, "events": ["*"]}).status_code == 403
    other = client_for(clinician_b)
    assert other.get("/api/v1/webhooks/").json()["results"] == []
    assert other.get(path).status_code == 404
    assert other.patch(path, {"is_active": False}).status_code == 404
    assert other.delete(path).status_code == 404
    assert other.get(path + "deliveries/").status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_it_lists_the_endpoints_in_the_same_queries_however_many(
    django_assert_num_queries, clinician_a, endpoint_for
):
    for n in range(25):
        endpoint_for(clinician_a.clinic, url=f"{URL}/{n}")
    client = client_for(clinician_a)

    # The token with its user (2), the count, the page.
    with django_assert_num_queries(4):
        response = client.get("/api/v1/webhooks/")

    assert response.json()["count"] == 25
