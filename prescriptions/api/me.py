"""The signed-in patient's own things: their calendar feed and a copy of their data."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.audit import Action, audit_record
from clinic.permissions import PATIENT, RolePermission
from patients.models import Patient
from patients.services import calendar_feed_reset
from prescriptions import reminders
from prescriptions.interop import patient_export


class CalendarUrlSerializer(serializers.Serializer):
    url = serializers.URLField(
        help_text="Secret: anyone with it can read your reminder times. Reset it if it leaked."
    )


def calendar_url(request, patient: Patient) -> str:
    token = reminders.calendar_token(patient.id, patient.calendar_feed_version)
    return request.build_absolute_uri(reverse("calendar-feed", args=[token]))


def export_response(patient: Patient) -> HttpResponse:
    """The export as a JSON file download (the API and the patient's page both offer it)."""
    document = patient_export(patient)
    body = json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"knee-rocks-{document['exported_at']:%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class PatientOnly(APIView):
    permission_classes = [RolePermission]
    read_roles = frozenset({PATIENT})
    write_roles = frozenset({PATIENT})


class MeCalendar(PatientOnly):
    """The secret address of your reminder times as a calendar (iCalendar, RFC 5545) that a
    phone subscribes to without signing in: today and the next 92 days, in your zone."""

    @extend_schema(responses=CalendarUrlSerializer)
    def get(self, request):
        audit_record(request, patients=[request.user.patient.id], action=Action.READ)
        return Response({"url": calendar_url(request, request.user.patient)})


class MeCalendarReset(PatientOnly):
    """A new calendar address; the old one answers 404 from now on."""

    @extend_schema(request=None, responses=CalendarUrlSerializer)
    def post(self, request):
        patient = calendar_feed_reset(patient=request.user.patient)
        audit_record(request, patients=[patient.id], action=Action.UPDATE)
        return Response({"url": calendar_url(request, patient)})


class MeExport(PatientOnly):
    """Everything stored about you, as one JSON file: your record, reminder preferences,
    prescriptions with their status history, check-ins, reminders and alerts."""

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    def get(self, request):
        audit_record(request, patients=[request.user.patient.id], action=Action.EXPORT)
        return export_response(request.user.patient)
