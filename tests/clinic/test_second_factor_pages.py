"""The second factor on the web pages: the setup page, the recovery codes shown once, the
account page's section, and a clinic that requires one leading its team to set it up."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import SecurityEvent
from tests.conftest import signed_in
from tests.factories import PASSWORD, ClinicianFactory
from tests.second_factor import code, second_factor_on, secret_typed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NOW = datetime(2026, 5, 4, 9, 0, 5, tzinfo=UTC)
SETUP = "/staff/account/second-factor/"
SECRET = re.compile(r'id="secret">((?:[A-Z2-7]{4} ){7}[A-Z2-7]{4})<')


def secret_on(page: str) -> bytes:
    return secret_typed(SECRET.search(page).group(1))


def events(kind: str) -> int:
    return SecurityEvent.objects.filter(event=kind).count()


@pytest.fixture
def required(clinic_a):
    clinic_a.require_second_factor = True
    clinic_a.save()
    return clinic_a


def sign_in(username) -> Client:
    """Through the sign-in form, as a browser would (the session made by session_start)."""
    client = Client()
    response = client.post("/staff/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


# --- The setup page ----------------------------------------------------------------------


def test_it_shows_a_qr_code_and_the_secret_in_groups_of_four(clinician_a):
    response = signed_in(clinician_a).get(SETUP)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in page and "QR code for your authenticator app" in page
    assert secret_on(page) == TOTPDevice.objects.get(user=clinician_a).bin_key
    assert "no-store" in response["Cache-Control"]
    # Nothing inline for the content security policy to refuse.
    assert "style=" not in page and "<script" not in page
    assert 'autocomplete="one-time-code"' in page


def test_a_reload_shows_the_same_secret(clinician_a):
    client = signed_in(clinician_a)

    first = secret_on(client.get(SETUP).content.decode())

    assert secret_on(client.get(SETUP).content.decode()) == first


def test_the_apps_code_turns_it_on_and_shows_the_recovery_codes_once(clinician_a):
    client = signed_in(clinician_a)
    key = secret_on(client.get(SETUP).content.decode())

    response = client.post(SETUP, {"code": code(key)})

    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    shown = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", page)
    assert len(set(shown)) == 10
    assert "only once" in page
    assert TOTPDevice.objects.get(user=clinician_a).confirmed
    assert events("second_factor_added") == 1
    # Never again: the setup page now leads back to the account page.
    again = client.get(SETUP)
    assert again["Location"] == "/staff/account/"
    assert not any(c in client.get("/staff/account/").content.decode() for c in shown)


def test_a_wrong_code_shows_the_page_again_with_the_error(clinician_a):
    client = signed_in(clinician_a)
    key = secret_on(client.get(SETUP).content.decode())

    response = client.post(SETUP, {"code": f"{(int(code(key)) + 1) % 1_000_000:06d}"})

    assert response.status_code == 400
    assert "not right" in response.content.decode()
    assert not TOTPDevice.objects.get(user=clinician_a).confirmed
    assert secret_on(response.content.decode()) == key


def test_a_patient_sets_it_up_on_their_own_page(patient_a):
    client = signed_in(patient_a.user)

    assert client.get(SETUP)["Location"] == "/my/account/second-factor/"
    page = client.get("/my/account/second-factor/").content.decode()
    response = client.post("/my/account/second-factor/", {"code": code(secret_on(page))})

    assert response.status_code == 200
    assert TOTPDevice.objects.get(user=patient_a.user).confirmed


def test_signed_out_visitors_go_to_the_sign_in_page():
    response = Client().get(SETUP)

    assert response["Location"].startswith("/staff/login/")


# --- The account page's section ----------------------------------------------------------


def test_the_account_page_offers_to_set_it_up(clinician_a):
    page = signed_in(clinician_a).get("/staff/account/").content.decode()

    assert "Off." in page
    assert f'action="{SETUP}"' in page


def test_the_account_page_says_it_is_on_and_turns_it_off_with_a_code(clinician_a, frozen_clock):
    key, _ = second_factor_on(clinician_a)
    client = signed_in(clinician_a)
    page = client.get("/staff/account/").content.decode()
    assert "On." in page and "10 recovery codes left" in page

    wrong = client.post("/staff/account/second-factor/off/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "not right" in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=clinician_a).exists()

    frozen_clock.shift(30)
    done = client.post("/staff/account/second-factor/off/", {"code": code(key)})
    assert done["Location"] == "/staff/account/"
    assert not TOTPDevice.objects.filter(user=clinician_a).exists()
    assert events("second_factor_removed") == 1


def test_a_required_clinics_member_has_no_way_to_turn_it_off(required, clinician_a):
    _, codes = second_factor_on(clinician_a)
    client = signed_in(clinician_a)

    page = client.get("/staff/account/").content.decode()
    assert "stays on" in page
    assert "/second-factor/off/" not in page
    refused = client.post("/staff/account/second-factor/off/", {"code": codes[0]})
    assert refused.status_code == 400
    assert "requires a second factor" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=clinician_a).exists()


# --- A clinic that requires it -----------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/staff/", "/staff/deliveries/", "/staff/account/", "/staff/patients/new/"]
)
def test_a_new_member_reaches_nothing_before_setting_it_up(required, clinician_a, path):
    client = sign_in(clinician_a.username)

    assert client.get(path)["Location"] == SETUP
    assert client.post(path, {})["Location"] == SETUP
    assert client.get(SETUP).status_code == 200


def test_the_sign_in_leads_straight_to_setup(required, staff_a):
    client = Client()
    response = client.post(
        "/staff/login/", {"username": staff_a.username, "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == SETUP
    assert "requires a second factor" in response.content.decode()


def test_the_member_may_sign_out_instead(required, clinician_a):
    client = sign_in(clinician_a.username)

    assert client.post("/staff/logout/")["Location"] == "/staff/login/"
    assert client.get("/staff/")["Location"].startswith("/staff/login/")


def test_once_set_up_the_pages_open_without_asking_again(required, clinician_a):
    client = sign_in(clinician_a.username)
    key = secret_on(client.get(SETUP).content.decode())
    client.post(SETUP, {"code": code(key)})

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/staff/deliveries/").status_code == 200
    # The answer is kept in the session: no second-factor query per request.
    assert not [q for q in queries.captured_queries if "otp_" in q["sql"]]


def test_a_member_with_one_goes_through_the_code_step_to_the_pages(
    required, clinician_a, frozen_clock
):
    key, _ = second_factor_on(clinician_a)
    frozen_clock.shift(30)
    client = Client()
    client.post("/staff/login/", {"username": clinician_a.username, "password": PASSWORD})

    response = client.post("/staff/login/code/", {"code": code(key)})

    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_a_session_opened_before_the_clinic_required_it_is_led_there_soon(
    clinic_a, clinician_a, frozen_clock
):
    client = sign_in(clinician_a.username)
    assert client.get("/staff/").status_code == 200
    clinic_a.require_second_factor = True
    clinic_a.save()

    # The answer "not required" is kept a few minutes, then asked again.
    assert client.get("/staff/").status_code == 200
    frozen_clock.shift(6 * 60)
    assert client.get("/staff/")["Location"] == SETUP


def test_patients_of_such_a_clinic_are_never_led_there(required, patient_a):
    client = Client()
    client.post("/my/login/", {"email": patient_a.user.username, "password": PASSWORD})

    assert client.get("/my/").status_code == 200


def test_members_of_other_clinics_are_not_led_there(required, clinician_b):
    client = sign_in(clinician_b.username)

    assert client.get("/staff/").status_code == 200


def test_a_member_added_later_is_led_there_too(required):
    newcomer = ClinicianFactory(clinic=required)

    assert sign_in(newcomer.username).get("/staff/")["Location"] == SETUP
