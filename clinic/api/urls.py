from django.urls import path

from clinic.api import team, views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/join/", team.Join.as_view(), name="auth-join"),
    path("team/", team.TeamList.as_view(), name="team"),
    path("team/events/", team.SecurityEvents.as_view(), name="team-events"),
    path("team/<int:pk>/", team.TeamMember.as_view(), name="team-member"),
    path("clinic/", team.ClinicView.as_view(), name="clinic"),
]
