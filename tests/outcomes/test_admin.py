"""The admin shows instruments and responses but never lets anyone rewrite them."""

from datetime import UTC, datetime

import pytest

from clinic.models import AuditEntry
from outcomes.models import Questionnaire
from tests.outcomes.support import psfs, respond
from tests.prescriptions.test_admin_records import admin_client, url  # noqa: F401

pytestmark = pytest.mark.django_db


def test_it_shows_a_response_read_only_and_audits_the_opening(admin_client, patient_a):  # noqa: F811
    response = respond(patient_a, "psfs", psfs(4), datetime(2026, 3, 2, 12, tzinfo=UTC))

    page = admin_client.get(url(response, "change"))

    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert AuditEntry.objects.filter(patient_id=patient_a.id, action="read").count() == 1
    assert admin_client.post(url(response, "delete"), {"post": "yes"}).status_code == 403


def test_it_keeps_instruments_to_the_load_command(admin_client):  # noqa: F811
    psfs_row = Questionnaire.objects.get(slug="psfs")

    assert admin_client.get(url(psfs_row, "change")).status_code == 200
    assert admin_client.post(url(psfs_row, "change"), {"name": "x"}).status_code == 403
    assert admin_client.get(url(psfs_row, "add")).status_code == 403
    assert Questionnaire.objects.get(slug="psfs").name == "Patient-Specific Functional Scale"
