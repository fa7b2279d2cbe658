"""`/healthz`: whether the database, the Celery broker and the channel layer answer."""

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from helpdesk.celery import app as celery_app

# A probe must get an answer, even from a dependency that accepts connections and then hangs.
CHANNEL_LAYER_TIMEOUT_SECONDS = 2


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_broker() -> str:
    if celery_app.conf.task_always_eager:
        return "ok (tasks run in-process)"
    with celery_app.connection_for_write() as conn:
        # One attempt: a retry would first sleep kombu's 2-second interval, making every
        # probe slow exactly when the broker is down.
        conn.ensure_connection(max_retries=0, timeout=2)
    return "ok"


async def _channel_layer_round_trip() -> None:
    layer = get_channel_layer()
    # A round trip through the layer proves it is reachable and shared with this process.
    async with asyncio.timeout(CHANNEL_LAYER_TIMEOUT_SECONDS):
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        await layer.receive(channel)


def _check_channel_layer() -> str:
    async_to_sync(_channel_layer_round_trip)()
    return "ok"


CHECKS = {"database": _check_database, "broker": _check_broker, "channel_layer": _check_channel_layer}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001  (any failure means "not healthy", with its reason)
            healthy = False
            results[name] = f"error: {type(exc).__name__}"
    return JsonResponse({"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503)
