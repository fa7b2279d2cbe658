"""What an agent does from the console: status, priority, tags, notes with @mentions, replies,
resending a failed reply, assignment and presence. Each answers htmx with the fragment its
form targets, and anything else with a redirect."""

import uuid

import pytest
from django.test import Client

from inbox.canned import canned_reply_fill
from inbox.models import Conversation, Message
from routing.models import Agent
from tests import factories

pytestmark = pytest.mark.django_db


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def post(client: Client, url: str, data: dict, *, target: str):
    return client.post(url, data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)


def action_url(conversation: Conversation, action: str) -> str:
    return f"/console/conversations/{conversation.pk}/{action}/"


def test_resolving_answers_with_the_header_and_announces_the_change(
    desk, django_capture_on_commit_callbacks, broadcast_trips
):
    client = client_for(desk.agent.user)
    header = f"conversation-header-{desk.ours.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client, action_url(desk.ours, "status"), {"status": "resolved"}, target=header
        )

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith(f'<header id="{header}"')
    desk.ours.refresh_from_db()
    assert desk.ours.status == "resolved"
    assert desk.ours.resolved_at is not None
    assert {
        "type": "conversation.changed",
        "channel_id": desk.channel.pk,
        "conversation_id": desk.ours.pk,
    } in [event for trip in broadcast_trips for event in trip]


def test_reopening_a_thread_that_has_a_newer_open_conversation_is_refused(desk):
    Conversation.objects.filter(pk=desk.ours.pk).update(status="resolved")
    factories.conversation(channel=desk.channel, customer=desk.ours.customer)
    response = client_for(desk.agent.user).post(action_url(desk.ours, "status"), {"status": "open"})
    assert response.status_code == 409
    assert response.json()["code"] == "thread_has_active_conversation"


def test_action_without_htmx_redirects_to_the_conversation(desk):
    response = client_for(desk.agent.user).post(
        action_url(desk.ours, "priority"), {"priority": "urgent"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/console/conversations/{desk.ours.pk}/"
    desk.ours.refresh_from_db()
    assert desk.ours.priority == "urgent"


def test_a_value_the_control_does_not_offer_is_a_400(desk):
    response = client_for(desk.agent.user).post(
        action_url(desk.ours, "status"), {"status": "deleted"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def test_tags_are_replaced_by_the_checked_ones(desk):
    keep, drop, add = factories.tag(), factories.tag(), factories.tag()
    desk.ours.tags.set([keep, drop])
    client_for(desk.agent.user).post(action_url(desk.ours, "tags"), {"tags": [keep.pk, add.pk]})
    assert set(desk.ours.tags.values_list("pk", flat=True)) == {keep.pk, add.pk}


def test_note_with_mentions_tells_the_mentioned_users(
    desk, django_capture_on_commit_callbacks, broadcast_trips
):
    client = client_for(desk.agent.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            action_url(desk.ours, "notes"),
            {"body": "@lee please check, cc @nobody and mail@example.com"},
            target=f"composer-{desk.ours.pk}",
        )

    assert response.status_code == 200
    assert "thread-changed" in response["HX-Trigger"]
    note = desk.ours.notes.get()
    assert note.author == desk.agent.user
    (event,) = [event for trip in broadcast_trips for event in trip if event["type"] == "note.created"]
    assert event["mentioned"] == str(desk.other_agent.pk)
    assert event["note_id"] == note.pk


def test_empty_note_comes_back_with_the_error_in_the_composer(desk):
    response = post(
        client_for(desk.agent.user),
        action_url(desk.ours, "notes"),
        {"body": ""},
        target=f"composer-{desk.ours.pk}",
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#composer-{desk.ours.pk}"
    assert "This field is required." in response.content.decode()
    assert not desk.ours.notes.exists()


def test_reply_is_queued_once_per_client_token(desk, django_capture_on_commit_callbacks):
    client = client_for(desk.agent.user)
    data = {"text": "We are on it!", "client_token": str(uuid.uuid4())}
    # Commit callbacks (the send task) are not run: no platform call from a unit test.
    with django_capture_on_commit_callbacks(execute=False):
        first = post(
            client, action_url(desk.ours, "replies"), data, target=f"composer-{desk.ours.pk}"
        )
        second = post(
            client, action_url(desk.ours, "replies"), data, target=f"composer-{desk.ours.pk}"
        )

    assert first.status_code == second.status_code == 200
    reply = desk.ours.messages.get(direction="out")
    assert (reply.content, reply.author, reply.delivery_status) == (
        "We are on it!",
        desk.agent.user,
        "pending",
    )
    # The fresh composer carries a new token for the next reply.
    assert data["client_token"] not in first.content.decode()


def test_resending_a_failed_reply_queues_one_new_reply(desk, django_capture_on_commit_callbacks):
    failed = factories.message(
        conversation=desk.ours,
        direction="out",
        sender_type="agent",
        content="Sorry!",
        delivery_status="failed",
        platform_message_id=None,
    )
    client = client_for(desk.agent.user)
    url = f"/console/conversations/{desk.ours.pk}/messages/{failed.pk}/resend/"
    with django_capture_on_commit_callbacks(execute=False):
        post(client, url, {}, target=f"thread-{desk.ours.pk}")
        response = post(client, url, {}, target=f"thread-{desk.ours.pk}")

    assert response.content.decode().lstrip().startswith(f'<div id="thread-{desk.ours.pk}"')
    resent = desk.ours.messages.filter(direction="out").exclude(pk=failed.pk).get()
    assert (resent.content, resent.delivery_status) == ("Sorry!", "pending")


def test_only_a_failed_reply_can_be_resent(desk):
    sent = factories.message(
        conversation=desk.ours, direction="out", sender_type="agent", delivery_status="sent"
    )
    response = client_for(desk.agent.user).post(
        f"/console/conversations/{desk.ours.pk}/messages/{sent.pk}/resend/"
    )
    assert response.status_code == 409


def test_agent_without_the_permission_cannot_assign(desk):
    response = client_for(desk.agent.user).post(
        action_url(desk.ours, "assign"), {"agent": desk.agent.pk}
    )
    assert response.status_code == 403
    desk.ours.refresh_from_db()
    assert desk.ours.assignee is None


def test_manager_assigns_from_the_header(desk):
    response = post(
        client_for(desk.manager),
        action_url(desk.ours, "assign"),
        {"agent": desk.agent.pk},
        target=f"conversation-header-{desk.ours.pk}",
    )
    assert response.status_code == 200
    desk.ours.refresh_from_db()
    assert desk.ours.assignee == desk.agent.user
    assert "Dana Rivera</option>" in response.content.decode()


def test_heartbeat_and_away(desk):
    client = client_for(desk.agent.user)
    Agent.objects.filter(pk=desk.agent.pk).update(presence="offline", last_heartbeat_at=None)

    response = post(client, "/console/presence/", {"status": "online"}, target="presence")
    agent = Agent.objects.get(pk=desk.agent.pk)
    assert (agent.presence, agent.last_heartbeat_at is not None) == ("online", True)
    assert 'value="online"' in response.content.decode()

    response = post(client, "/console/presence/", {"status": "away"}, target="presence")
    assert Agent.objects.get(pk=desk.agent.pk).presence == "away"
    assert 'id="presence-status" name="status" value="away"' in response.content.decode()


def test_a_user_who_is_not_an_agent_sends_no_heartbeat(desk):
    response = client_for(desk.manager).post("/console/presence/", {"status": "online"})
    assert response.status_code == 404


def test_post_without_the_csrf_token_is_refused(desk):
    client = client_for(desk.agent.user, enforce_csrf_checks=True)
    response = client.post(action_url(desk.ours, "status"), {"status": "resolved"})
    assert response.status_code == 403
    desk.ours.refresh_from_db()
    assert desk.ours.status == "open"


def test_canned_reply_placeholders_are_filled_for_the_conversation(desk):
    body = "Hi {{customer.first_name}} ({{ customer.name }}), {{agent.name}} here on {{channel.name}}. {{order.id}}"
    filled = canned_reply_fill(body=body, conversation=desk.ours, agent=desk.agent.user)
    assert filled == "Hi Olivia (Olivia Brandt), Dana Rivera here on Acme Page. {{order.id}}"


def test_composer_offers_canned_replies_filled_in(desk):
    factories.canned_reply(title="Greeting", body="Hello {{customer.name}}")
    response = client_for(desk.agent.user).get(
        f"/console/conversations/{desk.ours.pk}/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"composer-{desk.ours.pk}",
    )
    assert 'data-text="Hello Olivia Brandt">Greeting</option>' in response.content.decode()


def test_pending_reply_shows_as_sending(desk):
    factories.message(
        conversation=desk.ours,
        direction="out",
        sender_type="agent",
        delivery_status=Message.DeliveryStatus.PENDING,
    )
    body = (
        client_for(desk.agent.user).get(f"/console/conversations/{desk.ours.pk}/").content.decode()
    )
    assert 'data-status="pending"' in body
