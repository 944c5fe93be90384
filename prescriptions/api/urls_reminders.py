from django.urls import path

from prescriptions.api.reminders import ReminderListView, ReminderPreferenceView, ScheduleView

urlpatterns = [
    path("prescriptions/<int:pk>/schedule/", ScheduleView.as_view(), name="prescription-schedule"),
    path("reminders/", ReminderListView.as_view(), name="reminder-list"),
    path(
        "me/reminder-preferences/",
        ReminderPreferenceView.as_view(),
        name="reminder-preferences",
    ),
]
