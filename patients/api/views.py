from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clinic.api.serializers import AuditEntrySerializer, MeSerializer, TokenSerializer
from clinic.api.validation import as_api_error
from clinic.api.views import MeView as BaseMeView
from clinic.api.views import token_response
from clinic.audit import Action, AuditedMixin, audit_record
from clinic.models import AuditEntry
from clinic.permissions import (
    CLINIC_TEAM,
    CLINICIAN,
    EVERYONE,
    PATIENT,
    RolePermission,
)
from patients import services
from patients.api.serializers import (
    ActivateSerializer,
    ActivationCodeSerializer,
    EnrolmentSerializer,
    MeChangeSerializer,
    PatientSerializer,
    PatientWriteSerializer,
    ReminderPreferenceSerializer,
)
from patients.models import ReminderPreference
from patients.selectors import patients_in_reach


def email_in_use() -> exceptions.ValidationError:
    return exceptions.ValidationError({"email": ["This email is already in use."]})


ARCHIVED_PARAMETER = OpenApiParameter(
    "archived",
    bool,
    description="true: the archived patients instead (a clinic list shows only those in care)",
)


def archived_filter(request) -> bool:
    """`?archived=true` lists the archived patients; without it, the clinic's lists show
    the patients in care."""
    value = request.query_params.get("archived", "false")
    if value not in ("true", "false"):
        raise exceptions.ValidationError({"archived": ["Use true or false."]})
    return value == "true"


class PatientList(AuditedMixin, generics.ListCreateAPIView):
    """The clinic's patients (a patient sees only their own record); clinicians enrol."""

    permission_classes = [RolePermission]
    read_roles = EVERYONE
    write_roles = {CLINICIAN}
    serializer_class = PatientSerializer
    audit_patient = "id"

    def get_queryset(self):
        patients = patients_in_reach(self.request.user).select_related("user")
        if getattr(self.request.user, "role", None) in CLINIC_TEAM:
            archived = archived_filter(self.request)
            patients = patients.filter(archived_at__isnull=not archived)
        search = self.request.query_params.get("search", "").strip()
        if search:
            patients = patients.filter(
                Q(first_name__icontains=search)
                | Q(last_name__icontains=search)
                | Q(email__icontains=search)
            )
        return patients

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Part of a first or last name or email"),
            ARCHIVED_PARAMETER,
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=PatientWriteSerializer, responses={201: EnrolmentSerializer})
    def post(self, request):
        serializer = PatientWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            enrolment = services.patient_enrol(
                clinic=request.user.clinic,
                enrolled_by=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data.get("phone", ""),
                timezone_name=data.get("timezone"),
            )
        except IntegrityError:
            # Another enrolment with this email committed between our check and insert.
            raise email_in_use() from None
        patient = enrolment.patient
        audit_record(request, patients=[patient.id], action=Action.CREATE)
        patient.activation_code = enrolment.activation_code
        patient.activation_expires_at = enrolment.activation_expires_at
        return Response(EnrolmentSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetail(AuditedMixin, generics.RetrieveUpdateAPIView):
    permission_classes = [RolePermission]
    read_roles = EVERYONE
    write_roles = {CLINICIAN}
    serializer_class = PatientSerializer
    audit_patient = "id"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return patients_in_reach(self.request.user).select_related("user")

    @extend_schema(request=PatientWriteSerializer, responses={200: PatientSerializer})
    def patch(self, request, *args, **kwargs):
        patient = self.get_object()
        serializer = PatientWriteSerializer(patient, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "timezone" in changes:
            changes["timezone_name"] = changes.pop("timezone")
        try:
            patient = services.patient_update(patient=patient, **changes)
        except IntegrityError:
            raise email_in_use() from None
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        return Response(PatientSerializer(patient).data)


class PatientActivationCode(APIView):
    """A new one-time code for a patient who lost theirs or let it expire.

    Earlier unused codes stop working. Used on an activated patient it lets them choose a
    new password, which is how a clinic resets a forgotten one.
    """

    permission_classes = [RolePermission]
    write_roles = {CLINICIAN}

    @extend_schema(request=None, responses={201: ActivationCodeSerializer})
    def post(self, request, pk: int):
        patient = generics.get_object_or_404(
            patients_in_reach(request.user).select_related("user"), pk=pk
        )
        audit_record(request, patients=[patient.id], action=Action.UPDATE)
        code, expires_at = services.activation_code_issue(patient=patient)
        body = {"activation_code": code, "activation_expires_at": expires_at}
        return Response(ActivationCodeSerializer(body).data, status=status.HTTP_201_CREATED)


class PatientInvite(APIView):
    """Emails a patient who has not activated yet a link to the activation page with a
    fresh code; their earlier codes stop working. Answers 202: the email leaves shortly."""

    permission_classes = [RolePermission]
    write_roles = {CLINICIAN}

    @extend_schema(request=None, responses={202: None})
    def post(self, request, pk: int):
        patient = generics.get_object_or_404(
            patients_in_reach(request.user).select_related("user"), pk=pk
        )
        try:
            services.patient_invite(patient=patient)
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        audit_record(request, patients=[patient.id], action=Action.UPDATE)
        return Response(status=status.HTTP_202_ACCEPTED)


class Activate(APIView):
    """A new patient's first sign-in: the enrolment code plus a password of their choice."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "activate"

    @extend_schema(request=ActivateSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = ActivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.patient_activate(**serializer.validated_data)
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        return token_response(request, user)


class MeView(BaseMeView):
    """The caller; a patient changes their own time zone and phone number with PATCH."""

    @extend_schema(request=MeChangeSerializer, responses={200: MeSerializer})
    def patch(self, request):
        if not request.user.is_patient:
            raise exceptions.PermissionDenied(
                "Only patients change their details here; the clinic team uses patients/{id}/."
            )
        serializer = MeChangeSerializer(request.user.patient, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "timezone" in changes:
            changes["timezone_name"] = changes.pop("timezone")
        try:
            services.patient_update(patient=request.user.patient, **changes)
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        audit_record(request, patients=[request.user.patient.id], action=Action.UPDATE)
        return Response(MeSerializer(request.user).data)


class ReminderPreferenceView(APIView):
    """The signed-in patient's reminder preferences.

    The webhook secret signs every webhook request. It is shown once, in the PATCH answer
    that sets or changes `webhook_url` (a new secret each time) or asks for
    `rotate_webhook_secret`; never in a GET.
    """

    permission_classes = [RolePermission]
    read_roles = frozenset({PATIENT})
    write_roles = frozenset({PATIENT})

    def _preference(self):
        preference, _ = ReminderPreference.objects.get_or_create(patient=self.request.user.patient)
        audit_record(self.request, patients=[preference.patient_id])
        return preference

    @extend_schema(responses=ReminderPreferenceSerializer)
    def get(self, request):
        return Response(ReminderPreferenceSerializer(self._preference()).data)

    @extend_schema(request=ReminderPreferenceSerializer, responses=ReminderPreferenceSerializer)
    def patch(self, request):
        preference = self._preference()
        serializer = ReminderPreferenceSerializer(preference, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        rotate = changes.pop("rotate_webhook_secret", False)
        try:
            preference, new_secret = services.reminder_preference_update(
                preference=preference, changes=changes, rotate_webhook_secret=rotate
            )
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        data = ReminderPreferenceSerializer(preference).data
        if new_secret:
            data["webhook_secret"] = new_secret
        return Response(data)


class PatientAudit(generics.ListAPIView):
    """Who read or changed this patient's data, newest first. Entries are never changed or
    deleted; reading them is itself recorded."""

    permission_classes = [RolePermission]
    read_roles = CLINIC_TEAM
    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.none()  # for the schema generator

    def get_queryset(self):
        patient = generics.get_object_or_404(
            patients_in_reach(self.request.user).select_related("user"), pk=self.kwargs["pk"]
        )
        audit_record(self.request, patients=[patient.id], action=Action.READ)
        return AuditEntry.objects.filter(patient_id=patient.id).order_by("-at", "-id")


class PatientArchive(APIView):
    """The patient leaves the clinic's care: reminders and alerts stop and the clinic's lists
    leave them out (`?archived=true` shows them). Nothing is deleted; every record stays
    readable. `restore/` brings the patient back into care."""

    permission_classes = [RolePermission]
    write_roles = {CLINICIAN}
    restore = False  # set in urls

    @extend_schema(request=None, responses={200: PatientSerializer})
    def post(self, request, pk: int):
        patient = generics.get_object_or_404(
            patients_in_reach(request.user).select_related("user"), pk=pk
        )
        try:
            if self.restore:
                patient = services.patient_restore(patient=patient)
            else:
                patient = services.patient_archive(patient=patient, by=request.user)
        except DjangoValidationError as error:
            raise as_api_error(error) from None
        audit_record(
            request,
            patients=[patient.id],
            action=Action.UPDATE if self.restore else Action.ARCHIVE,
        )
        return Response(PatientSerializer(patient).data)
