import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from clinic.models import User
from prescriptions.models import Alert
from tests.factories import CheckInFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db

MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"clinic", "patients", "prescriptions"}
)


@pytest.fixture
def superuser_client(patient_a):
    prescription = PrescriptionFactory(patient=patient_a)
    CheckInFactory(prescription=prescription)
    Alert.objects.create(patient=patient_a, kind="red_flag", details={"flags": ["fever"]})
    admin_user = User.objects.create_superuser("root", "root@example.test", "pw")
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(("app", "model"), MODELS)
def test_it_opens_every_list_and_search_page(superuser_client, app, model):
    url = reverse(f"admin:{app}_{model}_changelist")

    assert superuser_client.get(url).status_code == 200
    assert superuser_client.get(url, {"q": "moss"}).status_code == 200


def test_it_opens_a_prescription_with_its_slots_and_history(superuser_client, patient_a):
    prescription = patient_a.prescriptions.get()
    url = reverse("admin:prescriptions_prescription_change", args=[prescription.id])

    page = superuser_client.get(url)

    assert page.status_code == 200
    assert b"Status changes" in page.content


def test_it_opens_a_patient_without_showing_the_webhook_secret(superuser_client, patient_a):
    from patients.models import ReminderPreference

    preference = ReminderPreference.objects.create(patient=patient_a)
    url = reverse("admin:patients_patient_change", args=[patient_a.id])

    page = superuser_client.get(url)

    assert page.status_code == 200
    assert preference.webhook_secret.encode() not in page.content


@pytest.mark.parametrize("path", ["/admin/auth/group/add/", "/admin/auth/group/"])
def test_it_has_no_group_pages_since_roles_decide_what_a_user_may_do(superuser_client, path):
    assert superuser_client.get(path).status_code == 404


def test_it_never_fails_on_an_id_past_the_integer_range_in_a_user_form(
    superuser_client, clinician_a
):
    url = f"/admin/clinic/user/{clinician_a.pk}/change/"
    form = {"username": clinician_a.username, "role": "clinician", "is_active": "on"}

    response = superuser_client.post(
        url, {**form, "groups": "99999999999999999999999", "user_permissions": "1e30"}
    )

    assert response.status_code in (200, 302)
    assert "groups" not in superuser_client.get(url).content.decode()
