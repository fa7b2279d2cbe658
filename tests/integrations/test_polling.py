"""Bluesky polling: cursors resume where they stopped, pages are stored once, and the
messages reach the inbox through the same path as webhooks."""

import copy
import threading

import pytest
import responses
from django.db import connection

from inbox.models import Message
from integrations.http import CredentialsRejected
from integrations.models import Channel, Platform, WebhookEvent
from integrations.polling import bluesky_channel_poll
from integrations.sending import _sessions
from integrations.services import PollOverlapped, polled_page_store
from tests import factories
from tests.integrations.platform_fixtures import load_example

# Real commits: processing is enqueued on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

PDS = "https://pds.example"
BRAND_DID = "did:plc:7kq2mzx4vw3nb5td6hryaj2e"
LOG = f"{PDS}/xrpc/chat.bsky.convo.getLog"
NOTIFICATIONS = f"{PDS}/xrpc/app.bsky.notification.listNotifications"


@pytest.fixture
def channel():
    _sessions.clear()
    return factories.channel(
        platform=Platform.BLUESKY, account_id=BRAND_DID, access_token="app-pass-1234", api_base_url=PDS
    )


@pytest.fixture
def pds():
    with responses.RequestsMock() as mock:
        mock.post(f"{PDS}/xrpc/com.atproto.server.createSession", json={"accessJwt": "jwt-1", "did": BRAND_DID})
        yield mock


def empty_notifications(pds):
    pds.get(NOTIFICATIONS, json={"notifications": []})


def test_first_poll_only_learns_the_cursor(channel, pds):
    pds.get(LOG, json={"cursor": "rev-5", "logs": []})
    empty_notifications(pds)
    assert bluesky_channel_poll(channel_id=channel.pk) == 0
    channel.refresh_from_db()
    assert channel.poll_state["chat_cursor"] == "rev-5"
    assert not Message.objects.exists()


def test_new_chat_logs_become_messages_and_the_cursor_resumes(channel, pds):
    page = load_example("bluesky", "getlog_dm_text")
    channel.poll_state = {"chat_cursor": "0000", "chat_rev": "0000", "notifications_seen_at": "2030-01-01T00:00:00Z"}
    channel.save()
    pds.get(LOG, json=page)
    pds.get(LOG, json={"cursor": page["cursor"], "logs": []})
    empty_notifications(pds)
    empty_notifications(pds)

    bluesky_channel_poll(channel_id=channel.pk)
    channel.refresh_from_db()
    assert channel.poll_state["chat_cursor"] == page["cursor"]
    assert pds.calls[1].request.params["cursor"] == "0000"
    message = Message.objects.get(direction=Message.Direction.INBOUND)
    assert message.content == page["logs"][0]["message"]["text"]
    assert message.conversation.external_thread_id == page["logs"][0]["convoId"]

    bluesky_channel_poll(channel_id=channel.pk)  # the next poll asks from the stored cursor
    log_calls = [call for call in pds.calls if call.request.url.startswith(LOG)]
    assert log_calls[-1].request.params["cursor"] == page["cursor"]
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1


def test_a_page_seen_again_adds_nothing(channel, pds):
    """The chat service may repeat logs at or before the cursor: the stored rev filters them."""
    page = load_example("bluesky", "getlog_dm_text")
    channel.poll_state = {"chat_cursor": page["cursor"], "chat_rev": page["logs"][-1]["rev"],
                          "notifications_seen_at": "2030-01-01T00:00:00Z"}
    channel.save()
    pds.get(LOG, json=page)
    empty_notifications(pds)
    assert bluesky_channel_poll(channel_id=channel.pk) == 0
    assert not WebhookEvent.objects.exists()


def test_mentions_are_ingested_once_across_polls(channel, pds):
    page = load_example("bluesky", "notifications_mention_reply")
    channel.poll_state = {"chat_cursor": "c", "chat_rev": "zzzz"}
    channel.save()
    for _ in range(2):
        pds.get(LOG, json={"cursor": "c", "logs": []})
    pds.get(NOTIFICATIONS, json=page)
    pds.get(NOTIFICATIONS, json=copy.deepcopy(page))

    bluesky_channel_poll(channel_id=channel.pk)
    channel.refresh_from_db()
    newest = max(n["indexedAt"] for n in page["notifications"])
    assert channel.poll_state["notifications_seen_at"] == newest
    uris = {n["uri"] for n in page["notifications"]}
    assert set(Message.objects.values_list("platform_message_id", flat=True)) == uris

    bluesky_channel_poll(channel_id=channel.pk)
    assert Message.objects.count() == len(uris)
    assert WebhookEvent.objects.count() == 1


def test_expired_token_logs_in_again(channel, pds):
    channel.poll_state = {"chat_cursor": "c", "chat_rev": "zzzz", "notifications_seen_at": "2030-01-01T00:00:00Z"}
    channel.save()
    pds.get(LOG, status=400, json={"error": "ExpiredToken", "message": "Token has expired"})
    pds.get(LOG, json={"cursor": "c", "logs": []})
    empty_notifications(pds)
    bluesky_channel_poll(channel_id=channel.pk)
    logins = [call for call in pds.calls if "createSession" in call.request.url]
    assert len(logins) == 2


def test_refused_credentials_flag_the_channel_without_leaking_them(channel):
    with responses.RequestsMock() as pds:
        pds.post(f"{PDS}/xrpc/com.atproto.server.createSession", status=401,
                 json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
        with pytest.raises(CredentialsRejected):
            bluesky_channel_poll(channel_id=channel.pk)
    channel.refresh_from_db()
    assert channel.needs_attention
    assert "app-pass-1234" not in channel.attention_reason


def _poller(channel_id: int) -> Channel:
    """The channel as one poll reads it when it starts."""
    return Channel.objects.get(pk=channel_id)


def test_a_poll_overlapped_by_another_stores_nothing_and_leaves_the_others_cursor(channel):
    channel.poll_state = {"chat_cursor": "c1"}
    channel.save()
    slow, fast = _poller(channel.pk), _poller(channel.pk)
    polled_page_store(channel=fast, body={"page": 1}, poll_state={"chat_cursor": "c2"})

    with pytest.raises(PollOverlapped):
        polled_page_store(channel=slow, body={"page": 1}, poll_state={"chat_cursor": "c2-slow"})

    assert _poller(channel.pk).poll_state == {"chat_cursor": "c2"}
    assert WebhookEvent.objects.count() == 1


@pytest.mark.requires_postgres
def test_two_concurrent_polls_of_a_channel_store_its_page_and_cursor_once(channel):
    channel.poll_state = {"chat_cursor": "c1"}
    channel.save()
    pollers = [_poller(channel.pk), _poller(channel.pk)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def store(poller: Channel, cursor: str) -> None:
        start.wait(timeout=10)
        try:
            polled_page_store(channel=poller, body={"page": 1}, poll_state={"chat_cursor": cursor})
            outcomes.append(cursor)
        except PollOverlapped:
            outcomes.append("overlapped")
        finally:
            connection.close()

    threads = [threading.Thread(target=store, args=(p, f"c2-{i}")) for i, p in enumerate(pollers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes)[1] == "overlapped" and len(outcomes) == 2, outcomes
    assert _poller(channel.pk).poll_state == {"chat_cursor": sorted(outcomes)[0]}
    assert WebhookEvent.objects.count() == 1
