import socket
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from clinic.models import Heartbeat
from config import celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_broker():
    """A port that accepts connections and never answers, like a hung broker."""
    keys = ("broker_url", "broker_write_url")
    # The raw values (write_url is usually unset and falls back to broker_url).
    previous = {key: celery_app.conf.get(key) for key in keys}
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
        celery_app.conf.update(dict.fromkeys(keys, url))
        try:
            yield
        finally:
            celery_app.conf.update(previous)


@pytest.fixture
def embedded_broker_without_its_folder(tmp_path):
    keys = ("broker_url", "broker_write_url", "broker_transport_options")
    previous = {key: celery_app.conf.get(key) for key in keys}
    missing = str(tmp_path / "gone")
    celery_app.conf.update(
        broker_url="filesystem://",
        broker_write_url="filesystem://",
        broker_transport_options={"data_folder_in": missing, "data_folder_out": missing},
    )
    try:
        yield
    finally:
        celery_app.conf.update(previous)


def test_it_answers_without_credentials_with_every_part(anon):
    Heartbeat.beat("scheduler", timezone.now())

    response = anon.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["scheduler"] == Heartbeat.objects.get(name="scheduler").at.isoformat()


def test_it_reports_degraded_before_the_scheduler_has_ever_ticked(anon):
    body = anon.get("/healthz").json()

    assert body["scheduler"] is None
    assert body["status"] == "degraded"


def test_it_reports_degraded_when_the_last_scheduler_tick_is_stale(anon):
    Heartbeat.beat("scheduler", timezone.now() - timedelta(minutes=30))

    response = anon.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"


def test_it_reports_an_unreachable_broker_quickly_and_still_answers_200(anon, silent_broker):
    Heartbeat.beat("scheduler", timezone.now())
    started = timezone.now()

    response = anon.get("/healthz")

    assert response.status_code == 200
    assert response.json()["broker"] == "unreachable"
    assert response.json()["status"] == "degraded"
    assert timezone.now() - started < timedelta(seconds=5)


def test_it_reports_the_embedded_broker_unreachable_when_its_folder_is_gone(
    anon, embedded_broker_without_its_folder
):
    assert anon.get("/healthz").json()["broker"] == "unreachable"


def test_it_answers_503_when_the_database_is_unreachable(anon, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("clinic.views.connection.cursor", refuse)

    response = anon.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert response.json()["status"] == "error"


def test_it_is_never_cached(anon):
    assert "no-cache" in anon.get("/healthz")["Cache-Control"]


def test_it_answers_head_requests_from_load_balancers(anon):
    assert anon.head("/healthz").status_code == 200


def test_it_answers_with_a_final_slash_too(anon):
    response = anon.get("/healthz/")

    assert response.status_code == 200
    assert response.json()["database"] == "ok"
