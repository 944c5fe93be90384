from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clinic import services, sign_ins
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
        try:
            user = services.user_sign_in(
                **serializer.validated_data, address=services.client_address(request)
            )
        except services.SignInLocked as locked:
            raise exceptions.Throttled(
                wait=locked.wait, detail="Too many failed sign-ins. Try again later."
            ) from None
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": ["The username or password is not correct."]}
            )
        return token_response(request, user)


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
