"""Concurrent workers ingesting the same deliveries: the database settles every race."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection

from inbox.models import Conversation, Customer, Message
from inbox.services import message_ingest
from tests import factories

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]
WORKERS = 8


def _run_together(work, events):
    """Run `work(event)` for every event on WORKERS threads released at the same instant."""
    barrier = threading.Barrier(WORKERS)

    def run(event):
        try:
            barrier.wait()
            return work(event)
        finally:
            connection.close()

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(run, events))


def test_same_message_processed_by_eight_workers_is_stored_once():
    channel = factories.channel()
    event = factories.inbound_event(platform_message_id="m-race")
    stored = _run_together(lambda e: message_ingest(channel=channel, event=e).pk, [event] * WORKERS)
    assert len(set(stored)) == 1
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Customer.objects.count() == 1


def test_concurrent_first_messages_of_one_thread_share_one_conversation():
    channel = factories.channel()
    first = factories.inbound_event()
    events = [
        factories.inbound_event(timestamp=first.timestamp + timedelta(seconds=n)) for n in range(WORKERS)
    ]
    _run_together(lambda e: message_ingest(channel=channel, event=e), events)
    assert Message.objects.count() == WORKERS
    assert Conversation.objects.count() == 1
    assert Customer.objects.count() == 1


def test_concurrent_messages_reopen_a_resolved_conversation_once():
    channel = factories.channel()
    first = message_ingest(channel=channel, event=factories.inbound_event())
    Conversation.objects.filter(pk=first.conversation_id).update(
        status="resolved", resolved_at=first.created_at + timedelta(minutes=5)
    )
    events = [
        factories.inbound_event(timestamp=first.created_at + timedelta(hours=1, seconds=n)) for n in range(WORKERS)
    ]
    conversations = _run_together(lambda e: message_ingest(channel=channel, event=e).conversation_id, events)
    assert set(conversations) == {first.conversation_id}
    assert Conversation.objects.get().status == Conversation.Status.OPEN
