"""Outcomes' own pages under /staff/ (its cards on prescriptions' pages come through
prescriptions.extensions)."""

from django.urls import path

from outcomes import schedule_web, staff_web

urlpatterns = [
    path(
        "prescriptions/<int:pk>/questionnaires/",
        schedule_web.change_schedule,
        name="staff-questionnaires",
    ),
    path("outcomes.csv", staff_web.summary_csv_download, name="staff-outcomes-csv"),
]
