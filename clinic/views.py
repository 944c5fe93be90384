from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from clinic.models import Heartbeat


@require_GET
def healthz(request):
    """Liveness for load balancers: 503 only when the database cannot be reached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        tick = Heartbeat.objects.filter(name="scheduler").values_list("at", flat=True).first()
    except Exception:
        return JsonResponse(
            {"status": "error", "database": "unreachable", "broker": None, "scheduler": None},
            status=503,
        )
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "broker": settings.CELERY_BROKER_URL.split("://", 1)[0],
            "scheduler": tick.isoformat() if tick else None,
        }
    )
