"""Pages opened from a signed link, without signing in."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from patients.models import Patient
from prescriptions import links
from prescriptions.calendar import calendar_feed


@require_GET
def calendar(request, token: str):
    found = links.calendar_patient_version(token)
    if found is None:
        raise Http404
    patient_id, version = found
    patient = Patient.objects.filter(id=patient_id, calendar_feed_version=version).first()
    if patient is None:
        raise Http404
    response = HttpResponse(calendar_feed(patient), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="knee-rocks.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
