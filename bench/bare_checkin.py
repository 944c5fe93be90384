"""The baseline of bench/checkin_post.py: the least a check-in POST must do, as a bare
Django app (settings, WSGI and one URL in this file), never routed in the product.

It checks the same Bearer token (knox) and inserts the same row; no serializer, no
permission classes, no throttle, no audit, no follow-up. Served by
    DJANGO_SETTINGS_MODULE=bare_checkin gunicorn --pythonpath bench,. bare_checkin:application
"""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bare_checkin"


def bare_checkin(request):
    from django.http import HttpResponse, JsonResponse
    from knox.auth import TokenAuthentication
    from rest_framework.exceptions import AuthenticationFailed

    from prescriptions.models import CheckIn, Prescription
    from prescriptions.schedule import checkin_local_date

    try:
        token = request.headers["Authorization"].split()[1].encode()
        user, _ = TokenAuthentication().authenticate_credentials(token)
    except (KeyError, IndexError, AuthenticationFailed):
        return HttpResponse(status=401)
    body = json.loads(request.body)
    rx = Prescription.objects.select_related("patient").get(
        id=body["prescription"], patient__user=user
    )
    performed_at = datetime.fromisoformat(body["performed_at"])
    check_in = CheckIn.objects.create(
        prescription=rx,
        patient=rx.patient,
        slot=body["slot"],
        performed_at=performed_at,
        local_date=checkin_local_date(performed_at, ZoneInfo(rx.patient.timezone), body["slot"]),
        pain_before=body["pain_before"],
    )
    return JsonResponse({"id": check_in.id}, status=201)


def _urls():
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    return [path("checkin/", csrf_exempt(bare_checkin))]


urlpatterns = _urls()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
