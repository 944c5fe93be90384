from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import resolve
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from clinic.models import Heartbeat
from config import celery_app

BROKER_TIMEOUT_SECONDS = 1.0
# The reminder tick (beat, every minute, run by a worker) records the heartbeat; a few
# missed ticks mean beat or every worker is down.
SCHEDULER_STALE_AFTER = timedelta(minutes=5)


def broker_status() -> str:
    """ "ok" when the broker accepts a connection within a second, else "unreachable"."""
    quick = {
        "socket_timeout": BROKER_TIMEOUT_SECONDS,
        "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    }
    try:
        with celery_app.connection_for_write(
            connect_timeout=BROKER_TIMEOUT_SECONDS, transport_options=quick
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
            conn.default_channel  # noqa: B018  (opening a channel is what talks to the broker)
            if conn.transport.driver_type == "filesystem":
                # The embedded broker "connects" to anything; its folder must really exist.
                folder = conn.transport_options.get("data_folder_in")
                if folder and not Path(folder).is_dir():
                    return "unreachable"
    except Exception:
        return "unreachable"
    return "ok"


@never_cache
@require_safe
def healthz(request):
    """For load balancers and operators; 503 only when the database cannot be reached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        tick = Heartbeat.objects.filter(name="scheduler").values_list("at", flat=True).first()
    except Exception:
        return JsonResponse(
            {
                "status": "error",
                "database": "unreachable",
                "broker": broker_status(),
                "scheduler": None,
            },
            status=503,
        )
    broker = broker_status()
    fresh = tick is not None and timezone.now() - tick < SCHEDULER_STALE_AFTER
    return JsonResponse(
        {
            "status": "ok" if broker == "ok" and fresh else "degraded",
            "database": "ok",
            "broker": broker,
            "scheduler": tick.isoformat() if tick else None,
        }
    )


@csrf_exempt  # Bearer-token clients carry no CSRF cookie; this view changes nothing
def api_not_found(request, rest: str = ""):
    """Any other path under /api/v1/ (e.g. `patients/-1/`): a JSON 404 like the API's own,
    not Django's HTML page, which API clients cannot read.

    A path missing its final slash is redirected only for reading: a redirect would drop a
    POST's body (and Django refuses one with a 500 under DEBUG), so writes get a 404 that
    names the right path."""
    slashed = f"{request.path}/"
    if not request.path.endswith("/") and resolve(slashed).func is not api_not_found:
        if request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(slashed)
        detail = f"Not found. Did you mean {slashed}? Every API path ends with a slash."
        return JsonResponse({"detail": detail}, status=404)
    return JsonResponse({"detail": "Not found."}, status=404)
