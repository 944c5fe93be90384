from django.urls import path, re_path

from clinic import web as auth
from prescriptions.staff_web import actions, clinic, patient

urlpatterns = [
    path("", clinic.home, name="staff-home"),
    path("login/", auth.sign_in, name="staff-login"),
    path("logout/", auth.sign_out, name="staff-logout"),
    path("adherence.csv", clinic.adherence_csv, name="staff-adherence-csv"),
    path("deliveries/", clinic.deliveries, name="staff-deliveries"),
    path("patients/new/", actions.enrol, name="staff-enrol"),
    path("patients/<int:pk>/", patient.patient_page, name="staff-patient"),
    path("patients/<int:pk>/prescribe/", actions.prescribe, name="staff-prescribe"),
    path("patients/<int:pk>/archive/", actions.archive, name="staff-archive"),
    path("patients/<int:pk>/invite/", actions.invite_patient, name="staff-patient-invite"),
    path("patients/<int:pk>/restore/", actions.restore, name="staff-restore"),
    path("patients/<int:pk>/edit/", actions.edit_patient, name="staff-patient-edit"),
    path("patients/<int:pk>/audit/", patient.audit_page, name="staff-patient-audit"),
    path("prescriptions/<int:pk>/plan/", actions.change_plan, name="staff-plan"),
    re_path(
        r"^prescriptions/(?P<pk>[0-9]+)/(?P<change>pause|resume|end)/$",
        actions.change_status,
        name="staff-status",
    ),
    path("alerts/<int:pk>/acknowledge/", actions.acknowledge, name="staff-alert-acknowledge"),
]
