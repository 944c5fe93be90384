from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clinic import second_factor, services, sign_ins
from clinic.api.serializers import MeSerializer, SignInSerializer, TokenSerializer
from clinic.audit import audit_record


def token_response(request, user, *, status_code=status.HTTP_200_OK) -> Response:
    token, expires_at = sign_ins.token_issue(user=user, request=request)
    body = TokenSerializer({"token": token, "expires_at": expires_at, "role": user.role}).data
    return Response(body, status=status_code)


class TokenView(APIView):
    """Sign in with a username (a patient's email) and password; one token per device."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sign_in"

    @extend_schema(request=SignInSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user = services.user_sign_in(
                username=data["username"],
                password=data["password"],
                address=services.client_address(request),
            )
        except services.SignInLocked as locked:
            raise exceptions.Throttled(
                wait=locked.wait, detail="Too many failed sign-ins. Try again later."
            ) from None
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": ["The username or password is not correct."]}
            )
        second_factor_check(request, user, data)
        return token_response(request, user)


def second_factor_check(request, user, data: dict) -> None:
    """After the right password: the code of a user whose second factor is on (a wrong one
    counts toward the lockout), or a 403 for a clinic team member whose clinic requires a
    second factor they have not set up."""
    if second_factor.has_second_factor(user):
        code = data.get("otp", "")
        if not code:
            raise exceptions.ValidationError(
                {"otp": ["Your second factor is on: give the code from your app."]}
            )
        if not second_factor.second_factor_sign_in(
            user=user,
            code=code,
            username=data["username"],
            address=services.client_address(request),
        ):
            raise exceptions.ValidationError(
                {"otp": ["That code is not right, or it has been used already."]}
            )
    elif second_factor.second_factor_required(user):
        raise exceptions.PermissionDenied(
            "Your clinic requires a second factor. Set one up by signing in on the web at "
            f"{settings.SITE_URL}{reverse('staff-login')}, then sign in here with its code."
        )


class LogoutView(APIView):
    """Revokes the token this request was made with; the user's other devices stay signed in."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        sign_ins.sign_in_end(request.auth.sign_in)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The caller. (patients.api.views.MeView adds a patient's PATCH; it is the one routed.)"""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        if request.user.is_patient:
            audit_record(request, patients=[request.user.patient.id])
        return Response(MeSerializer(request.user).data)
