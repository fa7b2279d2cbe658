"""Reply services: queued pending, sent by the task, marked sent with the platform's id or
failed with a reason; never sent twice after the platform accepted; never dropped."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import responses
import time_machine
from celery.exceptions import Retry
from django.core.cache import cache

from inbox.models import Conversation, Message
from inbox.services import receipt_apply, reply_queue, reply_send
from inbox.tasks import REPLY_SEND_MAX_RETRIES, reply_send_task
from integrations.models import Platform
from integrations.platforms.base import StatusReceipt
from tests import factories

pytestmark = pytest.mark.django_db
GRAPH = "https://graph.test/v21.0"
SEND = f"{GRAPH}/me/messages"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock_at_now():
    """The send task reads the real clock for the platforms' reply windows: hold it at NOW so
    the fixtures' times stay recent whatever the calendar date."""
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # budgets, pauses and send locks of earlier tests


@pytest.fixture
def conversation():
    channel = factories.channel(
        platform=Platform.FACEBOOK, api_base_url=GRAPH, access_token="page-token-SECRET"
    )
    customer = factories.customer()
    factories.identity(customer=customer, platform=Platform.FACEBOOK, external_id="psid-1")
    conversation = factories.conversation(
        channel=channel, customer=customer, external_thread_id="psid-1", now=NOW
    )
    factories.message(
        conversation=conversation, created_at=NOW - timedelta(minutes=5), platform_message_id="m_in"
    )
    return conversation


@pytest.fixture
def agent():
    return factories.user(is_staff=True)


def queue(conversation, agent, **kwargs):
    fields = {"text": "We are on it!", "client_token": uuid.uuid4(), "now": NOW, **kwargs}
    return reply_queue(conversation=conversation, author=agent, **fields)


@responses.activate
def test_a_queued_reply_is_sent_and_marks_the_first_response(
    conversation, agent, django_capture_on_commit_callbacks
):
    responses.post(SEND, json={"recipient_id": "psid-1", "message_id": "m_out"})
    with django_capture_on_commit_callbacks(execute=True):
        message, created = queue(conversation, agent)
    message.refresh_from_db()
    conversation.refresh_from_db()
    assert created
    assert (message.delivery_status, message.platform_message_id, message.part_ids) == (
        "sent",
        "m_out",
        ["m_out"],
    )
    assert conversation.first_response_at is not None


def test_the_same_client_token_returns_the_first_reply(conversation, agent):
    token = uuid.uuid4()
    first, created = queue(conversation, agent, client_token=token)
    again, created_again = queue(conversation, agent, client_token=token, text="something else")
    assert (created, created_again, first.pk) == (True, False, again.pk)
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


@responses.activate
def test_a_retry_after_the_platform_accepted_does_not_send_again(conversation, agent):
    """The worker crashed after the platform accepted the reply and its id was recorded."""
    message, _ = queue(conversation, agent)
    Message.objects.filter(pk=message.pk).update(part_ids=["m_accepted"], send_attempts=1)
    assert reply_send(message_id=message.pk, now=NOW) == "sent"
    message.refresh_from_db()
    assert message.platform_message_id == "m_accepted"
    assert len(responses.calls) == 0


@responses.activate
def test_a_reply_already_sent_is_not_sent_by_a_second_task(conversation, agent):
    responses.post(SEND, json={"message_id": "m_out"})
    message, _ = queue(conversation, agent)
    reply_send(message_id=message.pk, now=NOW)
    assert reply_send(message_id=message.pk, now=NOW) is None
    assert len(responses.calls) == 1


@responses.activate
def test_a_rejected_token_fails_the_reply_and_flags_the_channel(conversation, agent):
    responses.post(
        SEND,
        status=400,
        json={"error": {"code": 190, "message": "Invalid token page-token-SECRET"}},
    )
    message, _ = queue(conversation, agent)
    assert reply_send(message_id=message.pk, now=NOW) == "failed"
    message.refresh_from_db()
    conversation.channel.refresh_from_db()
    assert "190" in conversation.channel.attention_reason and conversation.channel.needs_attention
    assert (
        "SECRET" not in message.failure_reason
        and "SECRET" not in conversation.channel.attention_reason
    )
    assert message.failure_reason.startswith("Meta Graph API answered 400")


@responses.activate
def test_retries_running_out_fail_the_reply_with_a_reason(conversation, agent, settings):
    settings.PLATFORM_HTTP_MAX_ATTEMPTS = 1
    responses.post(SEND, status=503, json={})
    message, _ = queue(conversation, agent)  # not sent on commit: the test drives each attempt

    with pytest.raises(Retry):  # a 503 schedules another attempt
        reply_send_task.apply(kwargs={"message_id": message.pk})
    message.refresh_from_db()
    assert message.delivery_status == "pending"

    reply_send_task.apply(kwargs={"message_id": message.pk}, retries=REPLY_SEND_MAX_RETRIES)
    message.refresh_from_db()
    assert message.delivery_status == "failed"
    assert "Gave up after 9 attempts" in message.failure_reason
    assert message.send_attempts == 2


def test_a_reply_outside_the_window_at_send_time_fails_before_any_call(conversation, agent):
    message, _ = queue(conversation, agent)
    with responses.RequestsMock():
        assert reply_send(message_id=message.pk, now=NOW + timedelta(days=8)) == "failed"
    message.refresh_from_db()
    assert "7 days" in message.failure_reason


@responses.activate
def test_receipts_move_a_sent_reply_forward_never_back(conversation, agent):
    responses.post(SEND, json={"message_id": "m_out"})
    message, _ = queue(conversation, agent)
    reply_send(message_id=message.pk, now=NOW)
    channel = conversation.channel
    receipt_apply(
        channel=channel,
        event=StatusReceipt(account_id="a", status="read", platform_message_ids=("m_out",)),
    )
    receipt_apply(
        channel=channel,
        event=StatusReceipt(account_id="a", status="delivered", platform_message_ids=("m_out",)),
    )
    message.refresh_from_db()
    assert message.delivery_status == "read"


@responses.activate
def test_an_echo_stored_before_the_send_finished_becomes_the_reply(conversation, agent):
    responses.post(SEND, json={"message_id": "m_out"})
    message, _ = queue(conversation, agent)
    factories.message(
        conversation=conversation, direction=Message.Direction.OUTBOUND, platform_message_id="m_out"
    )
    reply_send(message_id=message.pk, now=NOW)
    assert list(
        Message.objects.filter(platform_message_id="m_out").values_list("pk", flat=True)
    ) == [message.pk]


@responses.activate
def test_a_public_reply_answers_the_newest_comment(agent):
    channel = factories.channel(platform=Platform.FACEBOOK, api_base_url=GRAPH)
    thread = factories.conversation(
        channel=channel, source=Conversation.Source.COMMENT, external_thread_id="p_c1", now=NOW
    )
    factories.message(
        conversation=thread, platform_message_id="p_c1", created_at=NOW - timedelta(hours=2)
    )
    factories.message(
        conversation=thread, platform_message_id="p_c2", created_at=NOW - timedelta(hours=1)
    )
    responses.post(f"{GRAPH}/p_c2/comments", json={"id": "p_c3"})
    message, _ = queue(thread, agent)
    assert message.reply_to_platform_id == "p_c2"
    assert reply_send(message_id=message.pk, now=NOW) == "sent"


def test_a_read_watermark_leaves_an_unsent_reply_pending(conversation, agent):
    message, _ = queue(conversation, agent)
    receipt = StatusReceipt(
        account_id="a",
        status="read",
        watermark=NOW + timedelta(hours=1),
        customer_external_id="psid-1",
    )
    receipt_apply(channel=conversation.channel, event=receipt)
    message.refresh_from_db()
    assert message.delivery_status == "pending"
