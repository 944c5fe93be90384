"""Pages about accounts, for every role: the account page, password reset, the second
factor, joining a clinic's team and the team itself."""

from django.urls import path

from clinic import account_web

urlpatterns = [
    path("staff/account/", account_web.account, name="staff-account"),
    path("my/account/", account_web.account, name="patient-account"),
]
