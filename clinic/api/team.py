"""The clinic's team, its settings and its security log, and joining the team by invitation.

Clinicians manage the team and the settings; staff read them. A patient is never a member:
their id is not found here (404).
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clinic import invitations, security_log, team
from clinic.api.serializers import TokenSerializer
from clinic.api.validation import StrictBooleanField, StrictSerializerMixin, as_api_error
from clinic.api.views import token_response
from clinic.models import Clinic, Invitation, SecurityEvent, User, iana_zones
from clinic.permissions import CLINIC_TEAM, CLINICIAN, RolePermission
from clinic.services import client_address

TEAM_ROLE_CHOICES = Invitation.Role.choices


class MemberSerializer(serializers.ModelSerializer):
    second_factor = serializers.BooleanField(
        read_only=True, help_text="Whether they confirmed a second factor (an authenticator app)."
    )
    last_sign_in = serializers.DateTimeField(source="last_login", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "role",
            "is_active",
            "second_factor",
            "last_sign_in",
        ]
        read_only_fields = fields


class MemberChangeSerializer(StrictSerializerMixin, serializers.Serializer):
    role = serializers.ChoiceField(choices=TEAM_ROLE_CHOICES, required=False)
    is_active = StrictBooleanField(
        required=False, help_text="false: every sign-in of theirs ends now and they cannot sign in"
    )


class InvitationSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    email = serializers.EmailField(max_length=150)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=TEAM_ROLE_CHOICES)

    class Meta:
        model = Invitation
        fields = ["id", "email", "first_name", "last_name", "role", "created_at", "expires_at"]
        read_only_fields = ["id", "created_at", "expires_at"]


class JoinSerializer(StrictSerializerMixin, serializers.Serializer):
    token = serializers.CharField(max_length=128, help_text="From the /join/{token}/ link")
    password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs):
        invitation = invitations.invitation_find(attrs["token"])
        if invitation is None:
            raise serializers.ValidationError({"token": [invitations.INVITATION_UNUSABLE]})
        try:
            validate_password(attrs["password"], user=invitations.invitation_user(invitation))
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": error.messages}) from None
        return attrs


class ClinicSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    name = serializers.CharField(max_length=200)
    require_second_factor = StrictBooleanField(
        required=False,
        help_text=(
            "true: clinicians and staff must confirm a second factor before they reach "
            "anything (auth/token/ answers 403 until they do)"
        ),
    )

    class Meta:
        model = Clinic
        fields = ["name", "slug", "timezone", "require_second_factor"]
        read_only_fields = ["slug"]

    def validate_timezone(self, value: str) -> str:
        if value not in iana_zones():
            raise serializers.ValidationError(
                f"{value!r} is not an IANA time zone name (such as America/New_York)."
            )
        return value


class SecurityEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityEvent
        fields = ["id", "at", "event", "user", "username_tried", "actor", "address", "details"]
        read_only_fields = fields


class TeamList(generics.ListAPIView):
    """The clinic's clinicians and staff; a clinician invites someone to join by email."""

    permission_classes = [RolePermission]
    read_roles = CLINIC_TEAM
    write_roles = {CLINICIAN}
    serializer_class = MemberSerializer

    def get_queryset(self):
        return team.team_members(self.request.user)

    @extend_schema(request=InvitationSerializer, responses={201: InvitationSerializer})
    def post(self, request):
        serializer = InvitationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            invitation = team.invitation_create(
                clinic=request.user.clinic,
                invited_by=request.user,
                address=client_address(request),
                **serializer.validated_data,
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class TeamMember(APIView):
    """A clinician changes a member's role, or switches their account off (every sign-in
    ends at once) or on again."""

    permission_classes = [RolePermission]
    write_roles = {CLINICIAN}

    @extend_schema(request=MemberChangeSerializer, responses={200: MemberSerializer})
    def patch(self, request, pk: int):
        members = team.team_members(request.user)
        member = generics.get_object_or_404(members, pk=pk)
        serializer = MemberChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            team.member_update(
                member=member,
                by=request.user,
                address=client_address(request),
                **serializer.validated_data,
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        return Response(MemberSerializer(members.get(pk=pk)).data)


class Join(APIView):
    """An invited person joins the team: the token from their email's link and a password
    of their choice; answers a token as a sign-in does."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    # The same budget as a patient's activation: both turn a one-time secret into a sign-in.
    throttle_scope = "activate"

    @extend_schema(request=JoinSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = JoinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = team.invitation_accept(
                **serializer.validated_data, address=client_address(request)
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        return token_response(request, user)


class ClinicView(APIView):
    """The caller's clinic; clinicians change its name, zone and second-factor rule."""

    permission_classes = [RolePermission]
    read_roles = CLINIC_TEAM
    write_roles = {CLINICIAN}

    @extend_schema(responses=ClinicSerializer)
    def get(self, request):
        return Response(ClinicSerializer(request.user.clinic).data)

    @extend_schema(request=ClinicSerializer, responses=ClinicSerializer)
    def patch(self, request):
        serializer = ClinicSerializer(request.user.clinic, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "timezone" in changes:
            changes["timezone_name"] = changes.pop("timezone")
        clinic = team.clinic_update(
            clinic=request.user.clinic,
            by=request.user,
            address=client_address(request),
            **changes,
        )
        return Response(ClinicSerializer(clinic).data)


class SecurityEvents(generics.ListAPIView):
    """The clinic's security log, newest first: sign-ins, failures, lockouts, passwords,
    second factors and the team's changes. Entries are never changed or deleted."""

    permission_classes = [RolePermission]
    read_roles = {CLINICIAN}
    serializer_class = SecurityEventSerializer

    def get_queryset(self):
        return security_log.for_clinic(self.request.user)
