"""The time zones every form offers: canonical ones grouped by region, with a search box;
the API keeps accepting every IANA name it accepted."""

import re

import pytest
from django.test import Client

from clinic.models import iana_zones
from clinic.zones import canonical_zones, zone_choices, zone_from_search
from patients.models import Patient
from tests.conftest import client_for, signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ALIASES = ["US/Eastern", "Factory", "GMT+0", "Etc/GMT-3", "Asia/Calcutta", "localtime"]


def offered(page: str) -> list[str]:
    select = re.search(r'<select name="timezone".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="([^"]+)"', select)


def test_it_offers_the_canonical_zones_and_utc_but_no_alias():
    zones = canonical_zones()

    assert {"UTC", "Australia/Sydney", "Asia/Kolkata", "America/New_York", "Europe/Oslo"} <= zones
    assert not zones & set(ALIASES)
    assert zones <= iana_zones() | {"UTC"}
    assert 350 < len(zones) < len(iana_zones())


def test_it_groups_the_zones_by_region_with_places_a_person_recognises():
    groups = dict(zone_choices())

    assert list(groups)[:2] == ["Universal", "Africa"]
    assert ("Australia/Sydney", "Sydney (Australia)") in groups["Australia"]
    assert ("America/Argentina/Buenos_Aires", "Buenos Aires, Argentina") in groups["America"]
    labels = [label for _, label in groups["Europe"]]
    assert labels == sorted(labels)


def test_it_keeps_an_alias_someone_already_holds_on_offer():
    assert zone_choices("US/Eastern")[0] == ("Your current zone", [("US/Eastern", "US/Eastern")])
    assert zone_choices("Europe/Oslo") == zone_choices()
    assert zone_choices("Mars/Olympus") == zone_choices()


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("sydney", "Australia/Sydney"),
        ("  Kolkata ", "Asia/Kolkata"),
        ("america/new_york", "America/New_York"),
        ("New York", "America/New_York"),
        ("Sydney (Australia)", "Australia/Sydney"),
        ("Atlantis", None),
        ("US/Eastern", None),
    ],
)
def test_it_finds_a_zone_by_what_a_person_types(typed, zone):
    assert zone_from_search(typed, canonical_zones()) == zone


def test_the_enrol_form_offers_them_grouped_with_a_search_list(clinician_a):
    page = signed_in(clinician_a).get("/staff/patients/new/").content.decode()

    assert set(offered(page)) == canonical_zones()
    assert '<optgroup label="Australia">' in page
    assert 'list="id_timezone_places"' in page
    assert '<datalist id="id_timezone_places">' in page
    assert '<label for="id_timezone_find">' in page


def test_the_enrol_form_takes_the_place_typed_in_the_search_box(clinician_a):
    body = {"first_name": "Isla", "last_name": "Reed", "email": "isla@example.com"}

    response = signed_in(clinician_a).post(
        "/staff/patients/new/", {**body, "timezone": "UTC", "timezone_find": "sydney"}
    )

    assert response.status_code == 302
    assert Patient.objects.get(email="isla@example.com").timezone == "Australia/Sydney"


def test_the_enrol_form_refuses_an_alias_and_an_unknown_place(clinician_a):
    body = {"first_name": "A", "last_name": "B", "email": "ab@example.com"}
    client = signed_in(clinician_a)

    alias = client.post("/staff/patients/new/", {**body, "timezone": "US/Eastern"})
    unknown = client.post(
        "/staff/patients/new/", {**body, "timezone": "UTC", "timezone_find": "Atlantis"}
    )

    for response in (alias, unknown):
        assert response.status_code == 400
        assert 'id="id_timezone_error"' in response.content.decode()
    assert not Patient.objects.filter(email="ab@example.com").exists()


def test_the_patients_own_form_offers_the_same_list(patient_a):
    client = Client()
    client.post("/my/login/", {"email": patient_a.email, "password": PASSWORD})

    page = client.get("/my/").content.decode()

    assert set(offered(page)) == canonical_zones()
    assert '<optgroup label="Europe">' in page


def test_a_patient_whose_zone_came_through_the_api_keeps_it_on_offer_and_can_save(patient_a):
    moved = client_for(patient_a.user).patch("/api/v1/me/", {"timezone": "US/Eastern"})
    assert moved.status_code == 200
    client = Client()
    client.post("/my/login/", {"email": patient_a.email, "password": PASSWORD})

    page = client.get("/my/").content.decode()
    saved = client.post("/my/zone-and-phone/", {"timezone": "US/Eastern", "phone": ""})

    assert '<option value="US/Eastern" selected>' in page
    assert saved.status_code == 302
    assert Patient.objects.get(id=patient_a.id).timezone == "US/Eastern"


@pytest.mark.parametrize("zone", ["US/Eastern", "Asia/Calcutta", "Etc/GMT-3"])
def test_the_api_still_accepts_every_iana_name(clinician_a, patient_a, zone):
    response = client_for(clinician_a).patch(
        f"/api/v1/patients/{patient_a.id}/", {"timezone": zone}, format="json"
    )

    assert response.status_code == 200
    assert Patient.objects.get(id=patient_a.id).timezone == zone
