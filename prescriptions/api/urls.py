from django.urls import include, path

urlpatterns = [
    # protocols/, prescriptions/, check-ins/
    path("", include("prescriptions.api.urls_core")),
    # patients/{id}/adherence/, adherence/, alerts/
    path("", include("prescriptions.api.urls_adherence")),
    # prescriptions/{id}/schedule/, reminders/, me/reminder-preferences/
    path("", include("prescriptions.api.urls_reminders")),
]
