"""Outcomes' own pages under /staff/ (its cards on prescriptions' pages come through
prescriptions.extensions)."""

from django.urls import path

from outcomes import staff_web

urlpatterns = [
    path("outcomes.csv", staff_web.summary_csv_download, name="staff-outcomes-csv"),
]
