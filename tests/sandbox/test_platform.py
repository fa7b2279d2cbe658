"""The sandbox platform: a sandbox channel's reply goes to it, it answers like the platform,
posts signed receipts back to our webhook, and can be told to fail."""

import time
import uuid
from datetime import timedelta

import pytest
import requests
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from inbox.models import Message
from inbox.services import replies, reply_queue, reply_send
from integrations.models import Channel, Platform
from integrations.sending import channel_client
from sandbox import platform as sandbox_platform
from tests import factories

# Receipts are posted by the sandbox as a separate request: they need committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


class DjangoTransport(requests.adapters.BaseAdapter):
    """Serve a `requests` call with Django's test client: this app's own sandbox endpoints."""

    def __init__(self) -> None:
        super().__init__()
        self.client = Client()

    def send(self, request, **kwargs):
        url = requests.utils.urlparse(request.url)
        headers = {
            key: value for key, value in request.headers.items() if key.lower() != "content-length"
        }
        answer = self.client.generic(
            request.method,
            f"{url.path}?{url.query}" if url.query else url.path,
            data=request.body or b"",
            content_type=headers.pop("Content-Type", "application/json"),
            headers=headers,
        )
        response = requests.Response()
        response.status_code, response._content, response.url = (
            answer.status_code,
            answer.content,
            request.url,
        )
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    cache.clear()
    sandbox_platform.sandbox_stats(reset=True)
    scheduled = []
    monkeypatch.setattr(sandbox_platform, "receipts_schedule", scheduled.append)
    # Each test sends through the test client itself, not through the task enqueued on commit.
    monkeypatch.setattr(replies, "_send_enqueue_on_commit", lambda message_id: None)
    return scheduled


@pytest.fixture
def session():
    session = requests.Session()
    session.mount("http://", DjangoTransport())
    return session


@pytest.fixture
def messenger_thread():
    channel = factories.channel(
        platform=Platform.FACEBOOK, mode=Channel.Mode.SANDBOX, api_base_url=""
    )
    customer = factories.customer()
    factories.identity(customer=customer, platform=Platform.FACEBOOK, external_id="psid-7")
    conversation = factories.conversation(
        channel=channel, customer=customer, external_thread_id="psid-7"
    )
    factories.message(conversation=conversation, created_at=timezone.now() - timedelta(minutes=2))
    return conversation


def queued(conversation) -> Message:
    message, _ = reply_queue(
        conversation=conversation,
        author=factories.user(),
        text="Sorted!",
        client_token=uuid.uuid4(),
    )
    return message


def test_a_sandbox_reply_is_accepted_then_delivered_and_read(messenger_thread, session, _fresh):
    message = queued(messenger_thread)
    client = channel_client(messenger_thread.channel, session=session, sleep=lambda s: None)
    assert reply_send(message_id=message.pk, client=client) == "sent"
    [job] = _fresh
    statuses = sandbox_platform.receipts_post(job, session=session)
    message.refresh_from_db()
    assert statuses == [200, 200]
    assert message.delivery_status == "read"


def test_the_sandbox_can_answer_429_which_is_retried(messenger_thread, session, settings):
    settings.PLATFORM_HTTP_MAX_INLINE_WAIT = 60
    sandbox_platform.sandbox_failure_set(platform=Platform.FACEBOOK, mode="429", count=2)
    slept, now = [], [time.time()]

    def sleep(seconds: float) -> None:  # a clock that moves only when the client waits
        slept.append(seconds)
        now[0] += seconds

    message = queued(messenger_thread)
    client = channel_client(
        messenger_thread.channel,
        session=session,
        sleep=sleep,
        clock=lambda: now[0],
        jitter=lambda: 0,
    )
    assert reply_send(message_id=message.pk, client=client) == "sent"
    assert slept == [sandbox_platform.RETRY_AFTER_SECONDS] * 2


def test_the_sandbox_can_expire_the_token(messenger_thread, session):
    sandbox_platform.sandbox_failure_set(platform=Platform.FACEBOOK, mode="expired_token")
    message = queued(messenger_thread)
    client = channel_client(messenger_thread.channel, session=session)
    assert reply_send(message_id=message.pk, client=client) == "failed"
    messenger_thread.channel.refresh_from_db()
    assert messenger_thread.channel.needs_attention
    assert "190" in messenger_thread.channel.attention_reason


def test_the_sandbox_enforces_the_platform_rate_limit(session, settings):
    settings.SANDBOX_RATE_LIMITS = {"telegram": (2, 60)}
    answers = [
        session.post(
            "http://testserver/sandbox/telegram/botT0KEN/sendMessage",
            json={"chat_id": 1, "text": "x"},
        )
        for _ in range(3)
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json()["parameters"]["retry_after"] == sandbox_platform.RETRY_AFTER_SECONDS
    assert sandbox_platform.sandbox_stats()["rate_limited"] == 1
