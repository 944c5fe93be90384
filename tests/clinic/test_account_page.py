import pytest
from django.test import Client

from clinic.models import SignIn
from tests.conftest import client_for, web_signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient_user(patient_a):
    patient_a.user.set_password(PASSWORD)
    patient_a.user.save()
    return patient_a.user


def test_each_role_finds_its_account_page_in_its_own_area(clinician_a, patient_user):
    assert web_signed_in(clinician_a).get("/staff/account/").status_code == 200
    assert web_signed_in(patient_user).get("/my/account/").status_code == 200
    assert web_signed_in(patient_user).get("/staff/account/")["Location"] == "/my/account/"


def test_signed_out_it_leads_to_the_sign_in_page_of_its_area():
    assert Client().get("/my/account/")["Location"] == "/my/login/?next=/my/account/"
    assert Client().get("/staff/account/")["Location"] == "/staff/login/?next=/staff/account/"


def test_it_lists_the_devices_and_names_this_one(clinician_a):
    client_for(clinician_a)
    browser = web_signed_in(clinician_a)

    page = browser.get("/staff/account/").content.decode()

    assert page.count("Sign out<span") == 2
    assert "App (API token)" in page
    assert "Web browser" in page
    assert page.count("· this one") == 1


def test_signing_out_another_device_from_the_page_stops_it(clinician_a):
    app = client_for(clinician_a)
    browser = web_signed_in(clinician_a)
    token = SignIn.objects.get(user=clinician_a, kind="token")

    response = browser.post(f"/staff/account/sign-ins/{token.id}/end/")

    assert response["Location"] == "/staff/account/#sign-ins"
    assert app.get("/api/v1/me/").status_code == 401
    assert browser.get("/staff/").status_code == 200


def test_signing_out_this_browser_from_the_list_signs_it_out(patient_user):
    browser = web_signed_in(patient_user)
    session = SignIn.objects.get(user=patient_user, kind="session")

    response = browser.post(f"/my/account/sign-ins/{session.id}/end/")

    assert response["Location"] == "/my/login/"
    assert browser.get("/my/")["Location"].startswith("/my/login/")


def test_sign_out_everywhere_from_the_page(clinician_a):
    app = client_for(clinician_a)
    browser = web_signed_in(clinician_a)

    assert browser.post("/staff/account/sign-ins/end-all/")["Location"] == "/staff/login/"

    assert app.get("/api/v1/me/").status_code == 401
    assert browser.get("/staff/")["Location"].startswith("/staff/login/")


def test_another_users_sign_in_is_a_404_from_the_page(clinician_a, staff_a):
    client_for(staff_a)
    theirs = SignIn.objects.get(user=staff_a)

    response = web_signed_in(clinician_a).post(f"/staff/account/sign-ins/{theirs.id}/end/")

    assert response.status_code == 404
    assert SignIn.objects.get(id=theirs.id).ended_at is None


def test_an_administrator_without_a_clinic_has_an_account_page_too(admin_user):
    browser = Client()
    browser.force_login(admin_user)

    assert browser.get("/staff/account/").status_code == 200


def test_times_on_the_list_say_their_zone(clinician_a, patient_user):
    clinician_a.clinic.timezone = "Australia/Sydney"
    clinician_a.clinic.save()

    assert "Sydney time" in web_signed_in(clinician_a).get("/staff/account/").content.decode()
    page = web_signed_in(patient_user).get("/my/account/").content.decode()
    assert f"{patient_user.patient.zone.key.rsplit('/')[-1].replace('_', ' ')} time" in page
