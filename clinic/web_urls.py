"""Pages about accounts, for every role: the account page, password reset, the second
factor, joining a clinic's team and the team itself."""

from django.urls import path

from clinic import account_web, password_web

urlpatterns = [
    path("staff/account/", account_web.account, name="staff-account"),
    path("my/account/", account_web.account, name="patient-account"),
    # Passwords (clinic/password_web.py)
    path(
        "staff/password-reset/",
        password_web.reset_request,
        {"area": "team"},
        name="staff-password-reset",
    ),
    path(
        "my/password-reset/",
        password_web.reset_request,
        {"area": "patient"},
        name="patient-password-reset",
    ),
    # Before the link's own route: "set-password" would otherwise read as a token.
    path(
        f"reset/<str:uidb64>/{password_web.SET_PASSWORD}/",
        password_web.reset_set_password,
        name="password-reset-set",
    ),
    path("reset/<str:uidb64>/<str:token>/", password_web.reset_link, name="password-reset-link"),
    path("staff/account/password/", password_web.change_password, name="staff-account-password"),
    path("my/account/password/", password_web.change_password, name="patient-account-password"),
]
