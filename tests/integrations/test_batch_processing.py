"""The processing task ingests the deliveries that arrived together as one batch; a failed batch
falls back to each delivery on its own, and inside a delivery one bad item never costs the good
ones (issue 11 §3)."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from inbox.models import Conversation, Message
from integrations.models import Platform, WebhookEvent
from integrations.services import webhook_event_process, webhook_events_process
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
PAGE_ID = "104857362918473"


@pytest.fixture
def page():
    return factories.channel(platform=Platform.FACEBOOK, account_id=PAGE_ID)


def messaging(mid: str, text: str = "Hello", *, sender: str = "7412983650124587") -> dict:
    return {
        "sender": {"id": sender}, "recipient": {"id": PAGE_ID}, "timestamp": 1736935200118,
        "message": {"mid": mid, "text": text},
    }


def stored(*items: dict) -> WebhookEvent:
    """A pending Messenger delivery with these messaging items, as the webhook stores it."""
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1736935200412, "messaging": list(items)}]})
    return WebhookEvent.objects.create(platform=Platform.FACEBOOK, body=body, received_at=timezone.now())


def test_deliveries_that_arrived_together_are_ingested_as_one_batch(page):
    events = [stored(messaging(f"m-{n}", sender=f"customer-{n % 3}")) for n in range(9)]
    events.append(stored({"sender": {"id": "c"}, "recipient": {"id": PAGE_ID}, "timestamp": 1, "read": {"watermark": 1}}))
    statuses = webhook_events_process(event_ids=[event.pk for event in events])
    assert list(statuses.values()) == ["processed"] * 9 + ["ignored"]
    assert Message.objects.count() == 9
    assert Conversation.objects.count() == 3
    assert set(WebhookEvent.objects.values_list("attempts", "error")) == {(1, "")}


def test_a_delivery_with_poisoned_items_keeps_its_good_ones(page):
    """Before: the NUL (PostgreSQL) or the lone surrogate (any database) failed the whole
    delivery, and its good messages, acknowledged with 200, were never stored."""
    event = stored(
        messaging("m-good-1", "first good one"),
        messaging("m-nul", "a NUL \u0000 inside"),
        messaging("m-surrogate", "a lone \ud83d surrogate"),
        messaging("m-" + "x" * 300, "an id too long to store"),
        messaging("m-good-2", "second good one"),
    )
    assert webhook_events_process(event_ids=[event.pk]) == {event.pk: "processed"}
    contents = dict(Message.objects.values_list("platform_message_id", "content"))
    assert contents == {
        "m-good-1": "first good one",
        "m-nul": "a NUL  inside",
        "m-surrogate": "a lone \ufffd surrogate",
        "m-good-2": "second good one",
    }
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert "item 4 (m-xxx" in event.error
    assert "platform_message_id is 302 characters long" in event.error


def test_a_failed_batch_falls_back_to_each_delivery_on_its_own(page, monkeypatch):
    def lost_race(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("integrations.services.events_ingest", lost_race)
    events = [stored(messaging(f"m-{n}")) for n in range(3)]
    statuses = webhook_events_process(event_ids=[event.pk for event in events])
    assert list(statuses.values()) == ["processed"] * 3
    assert Message.objects.count() == 3


def test_an_item_that_fails_is_retried_without_losing_or_repeating_the_others(page, monkeypatch, settings):
    from inbox.services import ingest

    apply = ingest._event_apply

    def flaky(*, channel, event, now):
        if event.platform_message_id == "m-2":
            raise RuntimeError("deadlock detected")
        return apply(channel=channel, event=event, now=now)

    def batch_fails(**kwargs):
        raise RuntimeError("deadlock detected")

    monkeypatch.setattr(ingest, "_event_apply", flaky)
    monkeypatch.setattr("integrations.services.events_ingest", batch_fails)
    event = stored(messaging("m-1"), messaging("m-2"), messaging("m-3"))
    assert webhook_events_process(event_ids=[event.pk]) == {event.pk: "pending"}
    assert set(Message.objects.values_list("platform_message_id", flat=True)) == {"m-1", "m-3"}
    event.refresh_from_db()
    assert (event.attempts, event.error) == (1, "item 2 (m-2): RuntimeError: deadlock detected")

    monkeypatch.undo()
    assert webhook_event_process(event_id=event.pk) == "processed"
    assert sorted(Message.objects.values_list("platform_message_id", flat=True)) == ["m-1", "m-2", "m-3"]


def test_a_delivery_that_cannot_parse_in_a_batch_fails_at_once_and_the_others_go_on(page):
    broken = WebhookEvent.objects.create(platform=Platform.FACEBOOK, body='{"object": "page"}', received_at=timezone.now())
    good = stored(messaging("m-1"))
    statuses = webhook_events_process(event_ids=[broken.pk, good.pk])
    assert statuses == {broken.pk: "failed", good.pk: "processed"}
    broken.refresh_from_db()
    assert broken.attempts == 1
    assert "MalformedPayload" in broken.error


@pytest.mark.requires_postgres
def test_redelivered_batches_processed_together_store_each_message_once(page):
    """The platform delivered the same messages twice and two workers took them at the same
    instant: the unique constraints decide, the loser falls back and finds the winner's rows."""
    workers = 4
    bodies = [[messaging(f"m-{n}", sender=f"customer-{n}") for n in range(10)] for _ in range(workers)]
    batches = [[stored(*items[:5]).pk, stored(*items[5:]).pk] for items in bodies]
    barrier = threading.Barrier(workers)

    def run(event_ids):
        try:
            barrier.wait()
            return webhook_events_process(event_ids=event_ids)
        finally:
            connection.close()

    with ThreadPoolExecutor(workers) as pool:
        outcomes = list(pool.map(run, batches))
    assert [set(outcome.values()) for outcome in outcomes] == [{"processed"}] * workers
    assert Message.objects.count() == 10
    assert Conversation.objects.count() == 10
