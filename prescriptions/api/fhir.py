"""`patients/{id}/fhir/`: the patient's record for another health system, as FHIR R4."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.audit import Action, audit_record
from clinic.permissions import EVERYONE, RolePermission
from patients.selectors import patients_in_reach
from prescriptions.interop import patient_bundle


class FHIRJSONRenderer(renderers.JSONRenderer):
    """FHIR's own JSON media type (RFC 6838 `+json`: any JSON parser reads it)."""

    media_type = "application/fhir+json"
    format = "fhir"


BUNDLE_SCHEMA = {
    "type": "object",
    "description": "A FHIR R4 Bundle of type `collection`: the Patient, a CarePlan per "
    "prescription, an Observation per pain score of a check-in (LOINC 72514-3), a "
    "Communication per sent reminder.",
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string", "enum": ["collection"]},
        "timestamp": {"type": "string", "format": "date-time"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "fullUrl": {"type": "string"},
                    "resource": {"type": "object", "additionalProperties": True},
                },
            },
        },
    },
    "required": ["resourceType", "type", "entry"],
}


class PatientFHIRView(APIView):
    """The patient's record as a FHIR R4 Bundle, for another clinic or health system."""

    permission_classes = [RolePermission]
    read_roles = EVERYONE
    renderer_classes = [FHIRJSONRenderer, renderers.JSONRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are DRF's `{"detail"}` bodies, not FHIR resources: they say plain JSON, as
        # everywhere else in the API.
        if response.status_code >= 400:
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        responses={
            (200, "application/fhir+json"): OpenApiResponse(BUNDLE_SCHEMA),
            (200, "application/json"): OpenApiResponse(BUNDLE_SCHEMA),
        }
    )
    def get(self, request, pk: int):
        patients = patients_in_reach(request.user).select_related("clinic")
        patient = get_object_or_404(patients, pk=pk)
        audit_record(request, patients=[patient.id], action=Action.EXPORT)
        return Response(patient_bundle(patient=patient, now=timezone.now()))
