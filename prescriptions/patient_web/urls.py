"""The patient's own pages, under /my/ (config/urls.py includes this URLconf), and the
pages their signed links open (`link_urlpatterns`, at the site's root)."""

from django.urls import path

import prescriptions.patient_web.access as access
import prescriptions.patient_web.checkin as checkin
import prescriptions.patient_web.home as home
import prescriptions.patient_web.preferences as preferences
import prescriptions.patient_web.public as public

urlpatterns = [
    path("", home.home, name="patient-home"),
    path("login/", access.sign_in, name="patient-login"),
    path("logout/", access.sign_out, name="patient-logout"),
    path("activate/", access.activate, name="patient-activate"),
    path("check-in/", checkin.check_in, name="patient-checkin"),
    path("check-ins/<int:pk>/", checkin.checkin_correct, name="patient-checkin-correct"),
    path("check-ins/<int:pk>/withdraw/", checkin.checkin_withdraw, name="patient-checkin-withdraw"),
    path("calendar/reset/", preferences.calendar_reset, name="patient-calendar-reset"),
    path("reminders/", preferences.reminder_settings, name="patient-reminders"),
    path("zone-and-phone/", preferences.zone_and_phone, name="patient-zone-and-phone"),
    path("export.json", preferences.export, name="patient-export"),
]

link_urlpatterns = [
    path("cal/<str:token>.ics", public.calendar, name="calendar-feed"),
    path("c/<str:token>/", public.checkin, name="checkin-link"),
    path("stop/<str:token>/", public.stop_reminders, name="stop-reminders"),
]
