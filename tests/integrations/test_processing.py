"""After the webhook answers: processing, the sweeper that recovers from a broker outage,
bounded retries and the replay command."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from helpdesk.celery import app as celery_app
from helpdesk.celery import queues_purge
from inbox.models import Message
from integrations.dispatch import processing_dispatch_flush, processing_waiting
from integrations.models import Platform, WebhookEvent
from integrations.platforms import meta
from integrations.services import webhook_event_process, webhook_events_sweep, webhook_events_take
from tests import factories
from tests.brokers import broker_unreachable, celery_broker
from tests.integrations.platform_fixtures import load_example

pytestmark = pytest.mark.django_db(transaction=True)
PAGE_ID = "104857362918473"


@pytest.fixture
def page():
    return factories.channel(platform=Platform.FACEBOOK, account_id=PAGE_ID)


def deliver(client, example="messenger_text"):
    body = json.dumps(load_example("meta", example)).encode()
    headers = meta.signature_headers(body=body, secret=factories.SECRETS[Platform.FACEBOOK])
    return client.post("/webhooks/facebook/", data=body, content_type="application/json", headers=headers)


@pytest.fixture
def broker_down():
    with broker_unreachable():
        yield


def test_broker_down_still_answers_200_and_the_sweeper_processes_later(client, page, broker_down):
    response = deliver(client)
    assert response.status_code == 200
    assert processing_dispatch_flush(timeout=10)  # the dispatcher tried the broker and gave up
    event = WebhookEvent.objects.get()
    assert (event.status, event.enqueued_at) == (WebhookEvent.Status.PENDING, None)
    assert not Message.objects.exists()

    celery_app.conf.task_always_eager = True  # the broker is back
    assert webhook_events_sweep(now=timezone.now()) == 1  # refused by the broker: no waiting
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert Message.objects.count() == 1


def test_an_event_a_worker_took_is_swept_only_once_its_lease_ran_out(page, settings):
    now = timezone.now()
    event = WebhookEvent.objects.create(platform=Platform.FACEBOOK, body="{}", received_at=now, enqueued_at=now)
    webhook_events_take(event_ids=[event.pk], now=now + timedelta(minutes=5))
    assert webhook_events_sweep(now=now + timedelta(minutes=5, seconds=30)) == 0
    assert webhook_events_sweep(now=now + timedelta(minutes=5) + settings.WEBHOOK_SWEEP_AFTER) == 1


@pytest.mark.requires_redis
def test_events_waiting_in_the_ingest_queue_are_never_swept_and_lost_ones_are(client, page, settings):
    with celery_broker(settings.REDIS_URL):
        queues_purge()
        deliver(client)
        assert processing_dispatch_flush(timeout=10)
        assert processing_waiting() == 1  # no ingest worker runs here: the task waits
        an_hour_later = timezone.now() + timedelta(hours=1)
        assert webhook_events_sweep(now=an_hour_later) == 0

        queues_purge()  # as a Redis restart without persistence loses the queue
        assert webhook_events_sweep(now=an_hour_later) == 1
        assert processing_waiting() == 1
        queues_purge()


def test_a_failing_event_is_retried_then_marked_failed_with_its_error(client, page, settings, monkeypatch):
    settings.WEBHOOK_MAX_ATTEMPTS = 2

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("integrations.services.events_ingest", broken)
    monkeypatch.setattr("integrations.services.event_ingest", broken)
    deliver(client)
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PENDING  # the first attempt, by the task
    assert webhook_event_process(event_id=event.pk) == WebhookEvent.Status.FAILED
    event.refresh_from_db()
    assert event.attempts == 2
    assert "RuntimeError: database hiccup" in event.error


def test_a_delivery_that_cannot_parse_fails_at_once_without_retries(page, settings):
    event = WebhookEvent.objects.create(platform=Platform.FACEBOOK, body='{"object": "page", "entry": "oops"}',
                                        received_at=timezone.now())
    assert webhook_event_process(event_id=event.pk) == WebhookEvent.Status.FAILED
    event.refresh_from_db()
    assert event.attempts == 1
    assert "MalformedPayload" in event.error


def test_processing_twice_is_harmless(client, page):
    deliver(client)
    event = WebhookEvent.objects.get()
    assert webhook_event_process(event_id=event.pk) == WebhookEvent.Status.PROCESSED
    assert Message.objects.count() == 1


def test_replay_failed_events_processes_them_once_fixed(client, page, settings):
    deliver(client)
    WebhookEvent.objects.update(status=WebhookEvent.Status.FAILED, error="boom")
    Message.objects.all().delete()
    call_command("replay_webhook_events", "--failed")
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert Message.objects.count() == 1


def test_replay_by_id_and_time_range(client, page, capsys):
    deliver(client)
    deliver(client, "messenger_image")
    first, second = WebhookEvent.objects.order_by("pk")
    call_command("replay_webhook_events", "--id", str(first.pk))
    assert "Replayed 1 event(s): 1 processed." in capsys.readouterr().out
    since = (second.received_at - timedelta(seconds=1)).isoformat()
    call_command("replay_webhook_events", "--since", since)
    assert "Replayed 2 event(s)" in capsys.readouterr().out
    assert Message.objects.count() == 2


def test_replay_takes_several_ids_after_one_flag_or_repeated(client, page, capsys):
    deliver(client)
    deliver(client, "messenger_image")
    first, second = WebhookEvent.objects.order_by("pk")
    call_command("replay_webhook_events", "--id", str(first.pk), str(second.pk))
    assert "Replayed 2 event(s): 2 processed." in capsys.readouterr().out
    call_command("replay_webhook_events", "--id", str(first.pk), "--id", str(second.pk))
    assert "Replayed 2 event(s): 2 processed." in capsys.readouterr().out


def test_replay_refuses_unknown_ids_and_no_selection(page):
    with pytest.raises(CommandError, match="No webhook event with id 404"):
        call_command("replay_webhook_events", "--id", "404")
    with pytest.raises(CommandError, match="Say which events"):
        call_command("replay_webhook_events")
