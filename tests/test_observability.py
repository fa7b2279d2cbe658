"""`/metrics` for Prometheus (protected; webhook acks, ingest lag, queue depths) and log lines
that carry the request's, event's and conversation's ids, as JSON in production."""

import json
import logging
from datetime import timedelta

import pytest
from celery import shared_task
from django.test import Client
from django.utils import timezone

from helpdesk.logcontext import LogContextFilter, log_context
from inbox.models import Message
from inbox.services import reply_fail
from integrations.models import Platform, WebhookEvent
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-for-tests"


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape() -> str:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return response.content.decode()


def sample(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name)]
    return float(line.rsplit(" ", 1)[1])


def test_metrics_need_the_token_or_a_staff_session():
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    staff = Client()
    staff.force_login(factories.user(is_staff=True))
    assert staff.get("/metrics").status_code == 200


def test_webhook_answers_are_counted_by_platform_and_status_and_strangers_paths_are_other(client):
    before = scrape()
    name = 'helpdesk_webhook_requests_total{platform="telegram",status="404"}'
    counted = sample(before, name) if name in before else 0.0
    client.post("/webhooks/telegram/999999/", data="{}", content_type="application/json")
    client.post("/webhooks/made-up-platform/", data="{}", content_type="application/json")
    after = scrape()
    assert sample(after, name) == counted + 1
    assert 'platform="made-up-platform"' not in after
    assert 'helpdesk_webhook_requests_total{platform="other"' in after


def test_ingest_lag_is_the_age_of_the_oldest_pending_event():
    assert sample(scrape(), "helpdesk_ingest_lag_seconds") == 0
    received = timezone.now() - timedelta(seconds=90)
    WebhookEvent.objects.create(platform=Platform.TELEGRAM, body="{}", headers={}, received_at=received, enqueued_at=received)
    assert 90 <= sample(scrape(), "helpdesk_ingest_lag_seconds") < 120


def json_line(record: logging.LogRecord) -> dict:
    from pythonjsonlogger.json import JsonFormatter

    LogContextFilter().filter(record)
    formatter = JsonFormatter("%(levelname)s %(message)s %(request_id)s %(event_id)s %(conversation_id)s")
    return json.loads(formatter.format(record))


def test_log_lines_carry_the_ids_bound_around_them():
    with log_context(event_id=41, conversation_id=7):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "processed", (), None)
        line = json_line(record)
    assert (line["message"], line["event_id"], line["conversation_id"], line["request_id"]) == ("processed", 41, 7, "")


def test_a_request_answers_and_logs_under_its_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    assert len(client.get("/healthz")["X-Request-ID"]) == 32  # made up when the proxy sent none


SEEN: list[dict] = []


@shared_task(name="tests.log_ids_record")
def log_ids_record(*, message_id: int) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sending", (), None)
    SEEN.append(json_line(record))


def test_a_task_logs_under_the_ids_it_was_given():
    log_ids_record.delay(message_id=12)
    assert SEEN[-1]["message_id"] == 12


def test_a_failed_reply_is_counted_once_committed(django_capture_on_commit_callbacks):
    name = 'helpdesk_replies_total{outcome="failed"}'
    before = scrape()
    counted = sample(before, name) if name in before else 0.0
    reply = factories.message(direction=Message.Direction.OUTBOUND, delivery_status=Message.DeliveryStatus.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        reply_fail(message_id=reply.pk, reason="The page's token expired.")
        reply_fail(message_id=reply.pk, reason="Failed again: not a new outcome.")
    assert sample(scrape(), name) == counted + 1
