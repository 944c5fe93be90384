"""Pages about accounts, for every role: the account page, password reset, the second
factor, joining a clinic's team and the team itself."""

from django.urls import path

from clinic import account_web

urlpatterns = [
    path("staff/account/", account_web.account, name="staff-account"),
    path("my/account/", account_web.account, name="patient-account"),
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
