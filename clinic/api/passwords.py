"""Passwords through the API: ask for a reset link, set a password from one, change one's
own. The work is clinic.passwords', shared with the web pages."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from clinic import passwords, sign_ins
from clinic.api.validation import StrictSerializerMixin, as_api_error
from clinic.services import client_address

RESET_ASKED = (
    "If this address belongs to an account, an email with a link to set a new password is "
    "on its way. The link works for one hour."
)
RESET_DONE = "Your password is set. Every device signed in to your account was signed out."
CHANGED = "Your password is changed. Your other devices were signed out."


class PasswordResetSerializer(StrictSerializerMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(StrictSerializerMixin, serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordChangeSerializer(StrictSerializerMixin, serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


Detail = inline_serializer("PasswordDetail", {"detail": serializers.CharField()})


class PasswordResetView(APIView):
    """Emails a link to set a new password to the owner of the address, if anyone owns it.
    The answer is the same either way."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_reset"

    @extend_schema(request=PasswordResetSerializer, responses={202: Detail})
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        passwords.password_reset_request(
            email=serializer.validated_data["email"], address=client_address(request)
        )
        return Response({"detail": RESET_ASKED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    """Sets a new password with the `uid` and `token` of an emailed link (/reset/{uid}/{token}/);
    every sign-in of the account ends."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_reset_confirm"

    @extend_schema(request=PasswordResetConfirmSerializer, responses={200: Detail})
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            passwords.password_reset_confirm(
                **serializer.validated_data, address=client_address(request)
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        return Response({"detail": RESET_DONE})


class PasswordChangeView(APIView):
    """The caller's new password; their other sign-ins end, this one goes on."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "password_change"

    @extend_schema(request=PasswordChangeSerializer, responses={200: Detail})
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            passwords.password_change(
                user=request.user,
                **serializer.validated_data,
                keep_sign_in=sign_ins.current_sign_in_id(request),
                address=client_address(request),
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        return Response({"detail": CHANGED})
