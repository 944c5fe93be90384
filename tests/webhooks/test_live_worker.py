"""The whole way, with a real worker: a red-flag check-in, and the clinic's receiver gets a
signed `alert.raised`; it answers 500 once, and the retry comes seconds later under the
same webhook-id."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from prescriptions.models import Alert
from tests.conftest import client_for
from tests.factories import PrescriptionFactory


@pytest.mark.celery_worker
def test_the_receiver_gets_a_signed_alert_again_after_a_500(
    live_worker, receiver, patient_a, clinician_a
):
    receiver.statuses = [500, 200]
    clinician = client_for(clinician_a)
    created = clinician.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["alert.raised"]}
    ).json()
    prescription = PrescriptionFactory(patient=patient_a, clinician=clinician_a)
    started = time.monotonic()

    response = client_for(patient_a.user).post(
        "/api/v1/check-ins/",
        {
            "prescription": prescription.id,
            "slot": "bedtime",
            "performed_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
            "pain_before": 7,
            "red_flags": ["leg_weakness"],
        },
    )

    assert response.status_code == 201, response.content
    live_worker.wait_for(lambda: len(receiver.received) >= 2, timeout=25)
    took = time.monotonic() - started
    first, second = receiver.received
    alert = Alert.objects.get(patient=patient_a, kind="red_flag")
    for got in (first, second):
        payload = Webhook(created["secret"]).verify(got.body, got.headers)
        assert payload["type"] == "alert.raised"
        assert payload["data"]["alert"] == alert.id
    assert first.headers["webhook-id"] == second.headers["webhook-id"]

    def logged():
        deliveries = clinician.get(f"/api/v1/webhooks/{created['id']}/deliveries/").json()
        [delivery] = deliveries["results"]
        return delivery if delivery["status"] == "delivered" else None

    delivery = live_worker.wait_for(logged, timeout=5)
    assert str(delivery["event"]) == first.headers["webhook-id"]
    assert [t["status_code"] for t in delivery["tries"]] == [500, 200]
    assert delivery["attempts"] == 2
    print(f"\nred flag to second (successful) delivery: {took:.1f}s")
