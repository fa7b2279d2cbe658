"""POST /api/v1/conversations/<id>/messages/: a reply is queued (201) or refused with a
reason (400) with nothing stored; conversations the caller can't see answer 404."""

import uuid
from datetime import timedelta

import pytest
import responses
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from inbox.models import Message
from inbox.tasks import replies_sweep_task
from integrations.models import Platform
from tests import factories
from tests.brokers import broker_unreachable

pytestmark = pytest.mark.django_db
GRAPH = "https://graph.test/v21.0"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def manager():
    return factories.user(is_staff=True)


@pytest.fixture
def api(manager) -> APIClient:
    client = APIClient()
    client.force_authenticate(manager)
    return client


@pytest.fixture
def conversation():
    channel = factories.channel(platform=Platform.FACEBOOK, api_base_url=GRAPH)
    conversation = factories.conversation(channel=channel, external_thread_id="psid-9")
    factories.message(conversation=conversation, created_at=timezone.now() - timedelta(minutes=1))
    return conversation


def url(conversation_id: int) -> str:
    return f"/api/v1/conversations/{conversation_id}/messages/"


def outbound_count() -> int:
    return Message.objects.filter(direction=Message.Direction.OUTBOUND).count()


@responses.activate
def test_a_reply_is_created_pending_and_sent_after_commit(
    api, conversation, django_capture_on_commit_callbacks
):
    responses.post(f"{GRAPH}/me/messages", json={"message_id": "m_1"})
    token = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            url(conversation.pk), {"text": "Hi!", "client_token": token}, format="json"
        )
    assert response.status_code == 201, response.json()
    assert (response.json()["delivery_status"], response.json()["client_token"]) == (
        "pending",
        token,
    )
    assert Message.objects.get(pk=response.json()["id"]).delivery_status == "sent"


def test_the_same_client_token_answers_200_with_the_first_reply(api, conversation):
    body = {"text": "Hi!", "client_token": str(uuid.uuid4())}
    first = api.post(url(conversation.pk), body, format="json")
    again = api.post(url(conversation.pk), body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"text": "   "}, "needs text or an attachment"),
        ({"text": "x" * 20001}, "20000 characters"),
        ({"text": "x" * 2001}, "2000"),
        ({"text": "see", "attachments": [{"url": "javascript:alert(1)"}]}, "not an http(s) URL"),
        (
            {"text": "see", "attachments": [{"url": "ftp://files.example/a.pdf", "type": "file"}]},
            "not an http(s) URL",
        ),
    ],
)
def test_bad_replies_are_refused_with_a_reason_and_nothing_stored(api, conversation, body, reason):
    response = api.post(url(conversation.pk), body, format="json")
    assert response.status_code == 400
    assert reason in response.json()["message"]
    assert outbound_count() == 0


def test_a_reply_on_an_inactive_channel_is_refused(api, conversation):
    conversation.channel.is_active = False
    conversation.channel.save()
    response = api.post(url(conversation.pk), {"text": "Hi"}, format="json")
    assert response.status_code == 400 and "inactive" in response.json()["message"]
    assert outbound_count() == 0


def test_a_reply_outside_the_messaging_window_is_refused(api, conversation):
    Message.objects.filter(conversation=conversation).update(
        created_at=timezone.now() - timedelta(days=9)
    )
    response = api.post(url(conversation.pk), {"text": "Hi"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "reply_refused" and "7 days" in response.json()["message"]


def test_unknown_conversation_answers_404(api):
    assert api.post(url(999999), {"text": "Hi"}, format="json").status_code == 404


def test_a_conversation_the_agent_may_not_see_answers_404(conversation):
    client = APIClient()
    client.force_authenticate(factories.user())
    assert client.post(url(conversation.pk), {"text": "Hi"}, format="json").status_code == 404
    assert outbound_count() == 0


def test_reply_to_must_be_a_message_of_the_conversation(api, conversation):
    other = factories.message()
    response = api.post(url(conversation.pk), {"text": "Hi", "reply_to": other.pk}, format="json")
    assert response.status_code == 400 and "reply_to" in response.json()["message"]


def test_sync_status_lists_each_active_channel(api, conversation):
    response = api.get("/api/v1/sync/")
    assert response.status_code == 200
    [row] = response.json()
    assert (row["channel_id"], row["status"], row["needs_attention"]) == (
        conversation.channel_id,
        "never",
        False,
    )


@responses.activate
def test_with_the_broker_down_a_reply_is_stored_with_201_and_the_sweeper_sends_it(
    api, conversation, django_capture_on_commit_callbacks, settings
):
    responses.post(f"{GRAPH}/me/messages", json={"message_id": "m_1"})
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(conversation.pk), {"text": "Hi!"}, format="json")
    assert response.status_code == 201, response.json()
    reply = Message.objects.get(pk=response.json()["id"])
    assert (reply.delivery_status, reply.send_attempts) == ("pending", 0)

    settings.REPLY_SWEEP_AFTER = timedelta(0)
    replies_sweep_task.delay()  # the broker is back: tasks run in-process again

    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert len(responses.calls) == 1
