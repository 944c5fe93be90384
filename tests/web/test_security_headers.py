"""The clinic team's pages under a content security policy, with the usual headers."""

import re
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(p for p in ROOT.glob("*/templates/staff/**/*.html") if ".venv" not in p.parts)


def policy(response) -> dict[str, str]:
    return {
        part.split()[0]: part.strip()
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    }


def test_it_sends_a_policy_without_inline_script_and_the_usual_headers(staff_a):
    client = Client()
    client.force_login(staff_a)

    response = client.get("/staff/")

    csp = policy(response)
    assert csp["script-src"] == "script-src 'self'"
    assert csp["style-src"] == "style-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_it_sends_the_policy_on_the_sign_in_page_too():
    response = Client().get("/staff/login/")

    assert policy(response)["script-src"] == "script-src 'self'"


def test_it_keeps_scripts_to_the_site_on_the_api_docs_and_loosens_styles_only():
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    csp = policy(response)
    assert csp["script-src"] == "script-src 'self'"
    assert "'unsafe-inline'" in csp["style-src"]
    # Swagger UI's set-up comes from the view as a script file, not inline.
    assert not re.search(r"<script>(?!\s*</script>)", response.content.decode())
    script = re.search(r'<script src="([^"]+script=[^"]*)"', response.content.decode())
    assert Client().get(script.group(1).replace("&amp;", "&")).status_code == 200


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_it_writes_no_inline_script_or_style_in_a_template(template):
    text = template.read_text()

    assert not re.search(r"<script(?![^>]*\ssrc=)", text)
    assert "<style" not in text
    assert not re.search(r"\sstyle=", text)
    assert not re.search(r"\son[a-z]+=", text)  # onclick= and the like
