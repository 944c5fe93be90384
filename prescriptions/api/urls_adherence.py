from django.urls import path

from prescriptions.api.adherence import ClinicAdherenceView, PatientAdherenceView
from prescriptions.api.alerts import AlertAcknowledge, AlertList

urlpatterns = [
    path(
        "patients/<int:pk>/adherence/",
        PatientAdherenceView.as_view(),
        name="patient-adherence",
    ),
    path("adherence/", ClinicAdherenceView.as_view(), name="clinic-adherence"),
    path("alerts/", AlertList.as_view(), name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", AlertAcknowledge.as_view(), name="alert-acknowledge"),
]
