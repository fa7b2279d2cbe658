"""Prometheus metrics at `/metrics`: what to alert on (README "Observability").

Counters and histograms live in each process; with several processes per host (uvicorn
workers, Celery workers) set PROMETHEUS_MULTIPROC_DIR to a directory they share, emptied at
start, and any web process answers for all of them. Figures that the database or the broker
knows (ingest lag, queue depths) are read when scraped, so they are right whichever process
answers.
"""

import hmac
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db.models import Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

WEBHOOK_ACKS = Counter(
    "helpdesk_webhook_requests_total", "Webhook requests answered, by platform and HTTP status.", ["platform", "status"]
)
WEBHOOK_ACK_SECONDS = Histogram(
    "helpdesk_webhook_ack_seconds",
    "Time to acknowledge a webhook request.",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REPLY_OUTCOMES = Counter("helpdesk_replies_total", "Replies that reached a final state, by outcome.", ["outcome"])
SLA_BREACHES = Counter("helpdesk_sla_breaches_total", "SLA targets breached, as the scan records them.")
SOCKETS = Gauge(
    "helpdesk_console_sockets", "Console websocket connections open now.", multiprocess_mode="livesum"
)


class _ScrapeTimeCollector:
    """Ingest lag and queue depths, read from PostgreSQL and the broker at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from integrations.models import WebhookEvent

        oldest = WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).aggregate(at=Min("received_at"))["at"]
        lag = GaugeMetricFamily(
            "helpdesk_ingest_lag_seconds", "Age of the oldest webhook event not processed yet (0: none waiting)."
        )
        lag.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield lag
        depths = GaugeMetricFamily("helpdesk_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"])
        for queue, depth in _queue_depths().items():
            depths.add_metric([queue], depth)
        yield depths


def _queue_depths() -> dict[str, int]:
    from helpdesk.celery import app

    if app.conf.task_always_eager:
        return {}  # the embedded default runs tasks in-process: there is no queue
    queues = {route["queue"] for route in (app.conf.task_routes or {}).values()} | {app.conf.task_default_queue}
    with app.connection_for_read() as connection:
        client = connection.default_channel.client  # kombu's Redis transport keeps a queue as a list
        return {queue: client.llen(queue) for queue in sorted(queues)}


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


_SCRAPE_TIME = _ScrapeTimeCollector()


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Answer the metrics to a scraper holding METRICS_TOKEN, or to a signed-in staff member."""
    if not _may_scrape(request):
        return HttpResponse("Metrics need the METRICS_TOKEN bearer token.\n", status=401, content_type="text/plain")
    registry = _registry()
    body = generate_latest(registry) + _scrape_time_metrics()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _scrape_time_metrics() -> bytes:
    registry = CollectorRegistry()
    registry.register(_SCRAPE_TIME)
    return generate_latest(registry)


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    return bool(request.user.is_authenticated and request.user.is_staff)


_PLATFORMS = {"facebook", "instagram", "x", "linkedin", "bluesky", "telegram"}


class WebhookMetricsMiddleware:
    """Count and time every answer under /webhooks/, by platform (the path's first part)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/webhooks/"):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        platform = request.path.split("/")[2]
        if platform not in _PLATFORMS:  # a stranger's path must not mint label values
            platform = "other"
        WEBHOOK_ACK_SECONDS.labels(platform).observe(time.perf_counter() - started)
        WEBHOOK_ACKS.labels(platform, str(response.status_code)).inc()
        return response


class SocketCountMiddleware:
    """ASGI middleware counting the websocket connections this process holds."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        SOCKETS.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            SOCKETS.dec()
