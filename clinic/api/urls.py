from django.urls import path

from clinic.api import events, passwords, second_factor, sign_ins, team, views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", sign_ins.LogoutAll.as_view(), name="auth-logout-all"),
    path("auth/tokens/", sign_ins.SignInList.as_view(), name="auth-tokens"),
    path("auth/tokens/<int:pk>/", sign_ins.SignInDetail.as_view(), name="auth-token-detail"),
    path("auth/2fa/setup/", second_factor.SetupView.as_view(), name="auth-2fa-setup"),
    path("auth/2fa/confirm/", second_factor.ConfirmView.as_view(), name="auth-2fa-confirm"),
    path("auth/2fa/disable/", second_factor.DisableView.as_view(), name="auth-2fa-disable"),
    path("auth/password-reset/", passwords.PasswordResetView.as_view(), name="password-reset"),
    path(
        "auth/password-reset/confirm/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("auth/password/", passwords.PasswordChangeView.as_view(), name="password-change"),
    path("auth/join/", team.Join.as_view(), name="auth-join"),
    path("team/", team.TeamList.as_view(), name="team"),
    path("team/events/", team.SecurityEvents.as_view(), name="team-events"),
    path("team/<int:pk>/", team.TeamMember.as_view(), name="team-member"),
    path("clinic/", team.ClinicView.as_view(), name="clinic"),
    path("events/", events.EventList.as_view(), name="events"),
]
