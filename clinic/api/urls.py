from django.urls import path

from clinic.api import passwords, views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/password-reset/", passwords.PasswordResetView.as_view(), name="password-reset"),
    path(
        "auth/password-reset/confirm/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("auth/password/", passwords.PasswordChangeView.as_view(), name="password-change"),
]
