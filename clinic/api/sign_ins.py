"""The caller's own sign-ins: list them, end one, end them all."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import sign_ins
from clinic.models import SignIn
from clinic.services import client_address


class SignInSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = SignIn
        fields = ["id", "kind", "created_at", "last_used_at", "expires_at", "current"]
        read_only_fields = fields

    def get_current(self, sign_in: SignIn) -> bool:
        return sign_in.id == self.context["current"]


class SignInList(APIView):
    """Where the caller is signed in: API tokens and web sessions still in force."""

    @extend_schema(responses=SignInSerializer(many=True))
    def get(self, request):
        current = sign_ins.current_sign_in_id(request)
        rows = sign_ins.open_sign_ins(request.user)
        return Response(SignInSerializer(rows, many=True, context={"current": current}).data)


class SignInDetail(APIView):
    """Ends one of the caller's sign-ins (this one too, if it is named)."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        sign_in = get_object_or_404(sign_ins.open_sign_ins(request.user), pk=pk)
        sign_ins.sign_in_end(sign_in)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAll(APIView):
    """Ends every sign-in of the caller, the one in use included: a lost phone, a shared
    computer left signed in."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        sign_ins.sign_out_everywhere(user=request.user, address=client_address(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
