from django.urls import path

from prescriptions.api import adherence, alerts, fhir, me, reminders, views

urlpatterns = [
    path("protocols/", views.ProtocolList.as_view(), name="protocol-list"),
    path("protocols/<slug:slug>/", views.ProtocolDetail.as_view(), name="protocol-detail"),
    path("prescriptions/", views.PrescriptionList.as_view(), name="prescription-list"),
    path(
        "prescriptions/<int:pk>/",
        views.PrescriptionDetail.as_view(),
        name="prescription-detail",
    ),
    *[
        path(
            f"prescriptions/<int:pk>/{change}/",
            views.PrescriptionStatusChange.as_view(change=change),
            name=f"prescription-{change}",
        )
        for change in ("pause", "resume", "end")
    ],
    path(
        "prescriptions/<int:pk>/history/",
        views.PrescriptionHistory.as_view(),
        name="prescription-history",
    ),
    path(
        "prescriptions/<int:pk>/schedule/",
        reminders.ScheduleView.as_view(),
        name="prescription-schedule",
    ),
    path("check-ins/", views.CheckInList.as_view(), name="checkin-list"),
    path("check-ins/<int:pk>/", views.CheckInDetail.as_view(), name="checkin-detail"),
    path(
        "patients/<int:pk>/adherence/",
        adherence.PatientAdherenceView.as_view(),
        name="patient-adherence",
    ),
    path("patients/<int:pk>/fhir/", fhir.PatientFHIRView.as_view(), name="patient-fhir"),
    path("adherence/", adherence.ClinicAdherenceView.as_view(), name="clinic-adherence"),
    path("alerts/", alerts.AlertList.as_view(), name="alert-list"),
    path(
        "alerts/<int:pk>/acknowledge/",
        alerts.AlertAcknowledge.as_view(),
        name="alert-acknowledge",
    ),
    path("reminders/", reminders.ReminderListView.as_view(), name="reminder-list"),
    path("me/calendar/", me.MeCalendar.as_view(), name="me-calendar"),
    path("me/calendar/reset/", me.MeCalendarReset.as_view(), name="me-calendar-reset"),
    path("me/export/", me.MeExport.as_view(), name="me-export"),
]
