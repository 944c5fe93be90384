"""The patient's own pages: an edge over the same selectors and services as the API.

access.py signing in, out and activating (`patient_required` guards every page); home.py
the page at /my/ (how to do the exercise, progress, the forms); checkin.py the check-in
from the page and its correction; preferences.py reminders, zone and phone, calendar and
the data download; public.py the pages a signed link opens without signing in; forms.py
their forms; charts.py the pain trend's geometry; day.py today's sessions; urls.py the
URLconf. Other apps' patient pages and config/urls.py use only what this face names.
"""

from prescriptions.patient_web.access import patient_required
from prescriptions.patient_web.urls import link_urlpatterns

__all__ = ["link_urlpatterns", "patient_required"]
