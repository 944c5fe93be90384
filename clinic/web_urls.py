"""Pages about accounts, for every role: the account page, password reset, the second
factor, joining a clinic's team and the team itself."""

from django.urls import path

from clinic import account_web, team_web

urlpatterns = [
    path("staff/account/", account_web.account, name="staff-account"),
    path("my/account/", account_web.account, name="patient-account"),
    path("staff/team/", team_web.team_page, name="staff-team"),
    path("staff/team/invite/", team_web.invite, name="staff-team-invite"),
    path("staff/team/settings/", team_web.clinic_settings, name="staff-team-settings"),
    path("staff/team/<int:pk>/role/", team_web.change_role, name="staff-team-role"),
    path("staff/team/<int:pk>/deactivate/", team_web.deactivate, name="staff-team-deactivate"),
    path("staff/team/<int:pk>/reactivate/", team_web.reactivate, name="staff-team-reactivate"),
    path("join/<str:token>/", team_web.join, name="join"),
]
