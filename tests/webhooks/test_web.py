"""/staff/webhooks/: a clinician lists, adds (the secret shown once), switches and deletes
endpoints and reads each one's delivery log with a Replay button; staff are kept out."""

import pytest
from django.test import Client

from clinic import events
from tests.conftest import signed_in
from webhooks import tasks
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db
URL = "https://hooks.riverside.example.test/in"


def test_it_adds_an_endpoint_and_shows_its_secret_this_once(clinician_a):
    client = signed_in(clinician_a)

    response = client.post("/staff/webhooks/add/", {"url": URL, "events": ["alert.raised"]})

    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    assert (endpoint.url, endpoint.events) == (URL, ["alert.raised"])
    assert endpoint.secret in response.content.decode()
    again = client.get("/staff/webhooks/").content.decode()
    assert URL in again and endpoint.secret not in again


def test_every_type_ticked_with_others_means_every_type(clinician_a):
    signed_in(clinician_a).post(
        "/staff/webhooks/add/", {"url": URL, "events": ["*", "alert.raised"]}
    )

    assert Endpoint.objects.get().events == ["*"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "http://hooks.example.test/", "events": ["*"]}, "Use an https:// address."),
        ({"url": "https://10.1.2.3/", "events": ["*"]}, "not a private or local one"),
        ({"url": URL}, "Choose at least one event type."),
    ],
)
def test_it_says_what_is_wrong_with_the_form(clinician_a, data, message):
    response = signed_in(clinician_a).post("/staff/webhooks/add/", data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Endpoint.objects.exists()


def test_it_switches_an_endpoint_off_and_on_and_deletes_it(clinician_a, endpoint_for):
    endpoint = endpoint_for(clinician_a.clinic)
    client = signed_in(clinician_a)

    client.post(f"/staff/webhooks/{endpoint.id}/toggle/")
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    client.post(f"/staff/webhooks/{endpoint.id}/toggle/")
    endpoint.refresh_from_db()
    assert endpoint.is_active

    assert "Yes, delete" in client.get(f"/staff/webhooks/{endpoint.id}/delete/").content.decode()
    assert Endpoint.objects.exists()
    client.post(f"/staff/webhooks/{endpoint.id}/delete/")
    assert not Endpoint.objects.exists()


def test_the_log_shows_each_try_and_replays_with_a_csrf_token(
    receiver, django_capture_on_commit_callbacks, clinician_a, patient_a, endpoint_for
):
    receiver.statuses = [503, 200]
    endpoint = endpoint_for(clinician_a.clinic, url=receiver.url)
    events.record(events.Type.ALERT_RAISED, clinic_id=clinician_a.clinic_id, patient=patient_a.id)
    delivery = Delivery.objects.get()
    tasks.deliver([delivery.id])
    client = Client(enforce_csrf_checks=True)
    client.force_login(clinician_a)

    page = client.get(f"/staff/webhooks/{endpoint.id}/").content.decode()
    assert "alert.raised" in page and "503" in page and "the receiver answered 503" in page
    replay = f"/staff/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay/"
    assert client.post(replay).status_code == 403  # no CSRF token
    token = client.cookies["csrftoken"].value
    with django_capture_on_commit_callbacks(execute=True):
        client.post(replay, {"csrfmiddlewaretoken": token})

    assert len(receiver.received) == 2
    page = client.get(f"/staff/webhooks/{endpoint.id}/").content.decode()
    assert "Delivered" in page


def test_staff_and_another_clinic_are_kept_out(staff_a, clinician_b, endpoint_for, clinician_a):
    endpoint = endpoint_for(clinician_a.clinic)

    assert signed_in(staff_a).get("/staff/webhooks/").status_code == 403
    assert "Webhooks" not in signed_in(staff_a).get("/staff/team/").content.decode()
    other = signed_in(clinician_b)
    assert other.get(f"/staff/webhooks/{endpoint.id}/").status_code == 404
    assert other.post(f"/staff/webhooks/{endpoint.id}/toggle/").status_code == 404
    assert other.post(f"/staff/webhooks/{endpoint.id}/delete/").status_code == 404
    assert Endpoint.objects.get().is_active


def test_the_navigation_links_the_page_for_clinicians(clinician_a):
    page = signed_in(clinician_a).get("/staff/team/").content.decode()

    assert 'href="/staff/webhooks/"' in page


def test_the_security_log_names_each_change_of_an_endpoint(clinician_a):
    client = signed_in(clinician_a)
    client.post("/staff/webhooks/add/", {"url": URL, "events": ["*"]})
    client.post(f"/staff/webhooks/{Endpoint.objects.get().id}/toggle/")

    page = client.get("/staff/team/").content.decode()

    assert f"Webhook {URL} added" in page
    assert f"Webhook {URL} switched off" in page
