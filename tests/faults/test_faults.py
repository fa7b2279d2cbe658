"""Faults on the real services: a poisoned item, the broker down and back, a worker SIGKILLed
mid-batch, Redis restarted, an idle console socket, an ingest backlog. Each compares the ledger
of messages sent through the webhook with what is stored: 0 lost, 0 duplicated."""

import asyncio
import copy
import json
from datetime import timedelta

import pytest
import websockets
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from inbox.models import Message
from integrations.dispatch import processing_waiting
from integrations.models import WebhookEvent
from sla.models import ClockEvent
from sla.services.clocks import sla_on_customer_message
from sla.tasks import sla_clocks_scan_task
from tests import factories
from tests.faults.conftest import (
    assert_ledger,
    deliver,
    deliver_each,
    messaging,
    settled,
    sweep_until_settled,
    wait_for,
)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.requires_postgres,
    pytest.mark.requires_redis,
    pytest.mark.django_db(transaction=True),
]

# Longer than the redis client's socket timeout and channels-redis's blocking receive (5 s).
IDLE_SECONDS = 30


def test_a_poisoned_item_costs_only_itself(client, page, broker, workers):
    workers.start("ingest")
    poisoned = "m-poison-" + "x" * 300  # longer than the column: refused on its own
    batch = ["m-batch-0", "m-batch-nul", "m-batch-2", "m-batch-surrogate"]
    others = [f"m-other-{n}" for n in range(5)]

    assert deliver(
        client,
        messaging(batch[0]),
        messaging(batch[1], "a NUL \u0000 inside"),
        messaging(poisoned),
        messaging(batch[2]),
        messaging(batch[3], "a lone \ud83d surrogate"),
    ) == 200
    deliver_each(client, others)
    wait_for(settled, what="the deliveries to be processed")

    assert_ledger(batch + others)
    refused = WebhookEvent.objects.get(body__contains="m-poison-")
    assert refused.status == WebhookEvent.Status.PROCESSED
    assert "platform_message_id is" in refused.error


def test_broker_down_then_back_loses_nothing(client, page, broker, workers):
    workers.start()
    broker.crash()
    sent = [f"m-down-{n}" for n in range(30)]

    deliver_each(client, sent)  # every delivery is acknowledged while Redis is down
    assert WebhookEvent.objects.filter(enqueued_at__isnull=True).count() == len(sent)  # refused by the broker

    broker.start()
    sweep_until_settled()
    assert_ledger(sent)


def test_a_worker_killed_mid_batch_loses_nothing(client, page, broker, workers):
    # More than one batch (a batch takes up to 200 queued events), so the kill lands mid-way.
    sent = [f"m-kill-{n}" for n in range(600)]
    deliver_each(client, sent)

    first = workers.start("ingest")
    wait_for(Message.objects.exists, what="the first worker to store a batch")
    first.kill()  # SIGKILL: its open batch transaction is rolled back, its task never acked
    first.wait(timeout=15)
    assert not settled(), "the worker finished everything before it was killed"

    workers.start("ingest")
    sweep_until_settled()
    assert_ledger(sent)


def test_redis_restarted_loses_its_queue_but_no_message(client, page, broker, workers):
    before = [f"m-before-{n}" for n in range(30)]
    deliver_each(client, before)
    assert processing_waiting() > 0  # queued, with no worker yet

    broker.crash()  # without persistence, the queued tasks are gone
    broker.start()
    workers.start("ingest")
    after = [f"m-after-{n}" for n in range(30)]
    deliver_each(client, after)

    sweep_until_settled()
    assert_ledger(before + after)


def test_an_ingest_backlog_does_not_hold_up_the_sla_scan(client, page, broker, workers):
    """Before the queues were split, the scan waited behind every queued delivery."""
    backlog = [f"m-backlog-{n}" for n in range(40)]
    deliver_each(client, backlog)  # no ingest worker runs: the ingest queue is backlogged
    factories.sla_policy(is_default=True)
    conversation = factories.conversation(channel=page)
    two_hours_ago = timezone.now() - timedelta(hours=2)
    sla_on_customer_message(conversation_id=conversation.pk, at=two_hours_ago, now=two_hours_ago)
    workers.start("sla")

    sla_clocks_scan_task.delay()  # as beat sends it

    wait_for(
        ClockEvent.objects.filter(conversation=conversation, kind=ClockEvent.Kind.BREACHED).exists,
        what="the SLA scan to record the breach",
    )
    assert processing_waiting() > 0  # the backlog is still there
    assert not Message.objects.exists()


def _session_cookie(user) -> str:
    browser = Client()
    browser.force_login(user)
    return f"{django_settings.SESSION_COOKIE_NAME}={browser.cookies[django_settings.SESSION_COOKIE_NAME].value}"


def test_an_idle_console_socket_hears_the_next_message(client, page, broker, workers, asgi_server, settings):
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["hosts"][0]["address"] = broker.url
    settings.CHANNEL_LAYERS = layers  # the web side and the workers share the test's Redis
    workers.start()
    url = asgi_server.replace("http://", "ws://") + "/ws/inbox/"
    cookie = _session_cookie(factories.user(is_staff=True))

    async def idle_then_hear() -> dict:
        async with websockets.connect(url, additional_headers={"Cookie": cookie}, origin=asgi_server) as socket:
            # Idleness is what is tested: anything received (or a close) before the end fails.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(socket.recv(), timeout=IDLE_SECONDS)
            await asyncio.to_thread(deliver_each, client, ["m-live-1"])
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
                if event["event"] == "message-created":
                    return event

    event = async_to_sync(idle_then_hear)()

    assert_ledger(["m-live-1"])
    assert event["message_id"] == Message.objects.get().pk
