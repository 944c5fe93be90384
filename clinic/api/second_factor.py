"""The caller's second factor through the API: set up, confirm with a code from the app
(which answers the recovery codes, this once), turn off with a code."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import second_factor, services


class SetupSerializer(serializers.Serializer):
    otpauth_url = serializers.CharField(
        help_text="otpauth://totp/… for an authenticator app; the secret is its `secret`."
    )


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(), help_text="10 codes, each usable once; shown only now."
    )


def refused(error: second_factor.SecondFactorRefused):
    return exceptions.ValidationError({"non_field_errors": [str(error)]})


class SetupView(APIView):
    """A new secret for an authenticator app, not in force until confirmed."""

    @extend_schema(request=None, responses={200: SetupSerializer})
    def post(self, request):
        try:
            device = second_factor.second_factor_setup(user=request.user)
        except second_factor.SecondFactorRefused as error:
            raise refused(error) from None
        body = SetupSerializer({"otpauth_url": second_factor.otpauth_url(device)}).data
        return Response(body)


class ConfirmView(APIView):
    """Puts the second factor in force with a code from the app; answers the recovery
    codes, which are never shown again."""

    @extend_schema(request=CodeSerializer, responses={200: RecoveryCodesSerializer})
    def post(self, request):
        serializer = CodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            codes = second_factor.second_factor_confirm(
                user=request.user,
                code=serializer.validated_data["code"],
                address=services.client_address(request),
            )
        except second_factor.SecondFactorRefused as error:
            raise refused(error) from None
        if codes is None:
            raise exceptions.ValidationError(
                {"code": ["That code is not right. Type the code your app shows now."]}
            )
        return Response(RecoveryCodesSerializer({"recovery_codes": codes}).data)


class DisableView(APIView):
    """Turns the second factor off, given a current code or an unused recovery code. A
    clinic that requires a second factor keeps its team's on (400)."""

    @extend_schema(request=CodeSerializer, responses={204: None})
    def post(self, request):
        serializer = CodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            removed = second_factor.second_factor_disable(
                user=request.user,
                code=serializer.validated_data["code"],
                address=services.client_address(request),
            )
        except second_factor.SecondFactorRefused as error:
            raise refused(error) from None
        if not removed:
            raise exceptions.ValidationError(
                {"code": ["That code is not right, or it has been used already."]}
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
