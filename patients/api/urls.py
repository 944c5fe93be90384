from django.urls import path

from patients.api import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("auth/activate/", views.Activate.as_view(), name="auth-activate"),
    path("patients/", views.PatientList.as_view(), name="patient-list"),
    path("patients/<int:pk>/", views.PatientDetail.as_view(), name="patient-detail"),
    path(
        "patients/<int:pk>/activation-code/",
        views.PatientActivationCode.as_view(),
        name="patient-activation-code",
    ),
    path("patients/<int:pk>/invite/", views.PatientInvite.as_view(), name="patient-invite"),
    path(
        "me/reminder-preferences/",
        views.ReminderPreferenceView.as_view(),
        name="reminder-preferences",
    ),
    path("patients/<int:pk>/audit/", views.PatientAudit.as_view(), name="patient-audit"),
    path("patients/<int:pk>/archive/", views.PatientArchive.as_view(), name="patient-archive"),
    path(
        "patients/<int:pk>/restore/",
        views.PatientArchive.as_view(restore=True),
        name="patient-restore",
    ),
]
