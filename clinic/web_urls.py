"""Pages about accounts, for every role: the account page, password reset, the second
factor, joining a clinic's team and the team itself."""

from django.urls import path

from clinic import account_web, password_web, second_factor_web, team_web

urlpatterns = [
    path("staff/account/", account_web.account, name="staff-account"),
    path("my/account/", account_web.account, name="patient-account"),
    # The second factor: the sign-in's code step, its setup page and turning it off.
    path("staff/login/code/", second_factor_web.sign_in_code, name="staff-login-code"),
    path("my/login/code/", second_factor_web.sign_in_code, name="patient-login-code"),
    path("staff/account/second-factor/", second_factor_web.setup, name="staff-second-factor"),
    path("my/account/second-factor/", second_factor_web.setup, name="patient-second-factor"),
    path(
        "staff/account/second-factor/off/",
        second_factor_web.disable,
        name="staff-second-factor-off",
    ),
    path(
        "my/account/second-factor/off/",
        second_factor_web.disable,
        name="patient-second-factor-off",
    ),
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
    path("staff/team/", team_web.team_page, name="staff-team"),
    path("staff/team/invite/", team_web.invite, name="staff-team-invite"),
    path("staff/team/settings/", team_web.clinic_settings, name="staff-team-settings"),
    path("staff/team/<int:pk>/role/", team_web.change_role, name="staff-team-role"),
    path("staff/team/<int:pk>/deactivate/", team_web.deactivate, name="staff-team-deactivate"),
    path("staff/team/<int:pk>/reactivate/", team_web.reactivate, name="staff-team-reactivate"),
    path("join/", team_web.join, name="join"),
    path("join/<str:token>/", team_web.join_link, name="join-link"),
]
for area in ("staff", "my"):
    urlpatterns += [
        path(
            f"{area}/account/sign-ins/<int:pk>/end/",
            account_web.end_sign_in,
            name=f"{area}-end-sign-in",
        ),
        path(
            f"{area}/account/sign-ins/end-all/",
            account_web.sign_out_everywhere,
            name=f"{area}-sign-out-everywhere",
        ),
    ]
