"""The console's websocket: only signed-in managers subscribe, and they hear new messages."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from inbox.consumers import InboxConsumer
from inbox.services import message_ingest
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _communicator(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(InboxConsumer.as_asgi(), "/ws/inbox/")
    communicator.scope["user"] = user
    return communicator


async def test_anonymous_socket_is_refused():
    from django.contrib.auth.models import AnonymousUser

    connected, _ = await _communicator(AnonymousUser()).connect()
    assert not connected


async def test_agent_without_manager_rights_is_refused():
    agent = await sync_to_async(factories.user)()
    connected, _ = await _communicator(agent).connect()
    assert not connected


async def test_manager_hears_a_new_message_after_it_commits():
    manager = await sync_to_async(factories.user)(is_staff=True)
    communicator = _communicator(manager)
    connected, _ = await communicator.connect()
    assert connected
    channel = await sync_to_async(factories.channel)()
    message = await sync_to_async(message_ingest)(channel=channel, event=factories.inbound_event())
    event = await communicator.receive_json_from(timeout=5)
    assert event.pop("event_id")
    assert event == {
        "event": "message-created", "channel_id": channel.pk, "conversation_id": message.conversation_id,
        "message_id": message.pk,
    }
    await communicator.disconnect()


async def test_an_event_reaching_several_of_the_consoles_groups_is_forwarded_once():
    """An event sent to an inbox, all inboxes and the open conversation reaches a console
    once per group it joined (here: twice through one group): it is forwarded once."""
    from channels.layers import get_channel_layer

    manager = await sync_to_async(factories.user)(is_staff=True)
    channel = await sync_to_async(factories.channel)()
    communicator = _communicator(manager)
    assert (await communicator.connect())[0]
    event = {"type": "conversation.changed", "event_id": "e-1", "channel_id": channel.pk, "conversation_id": 7}
    layer = get_channel_layer()
    await layer.group_send("inbox.all", event)
    await layer.group_send("inbox.all", event)
    await layer.group_send("inbox.all", {**event, "event_id": "e-2"})
    assert (await communicator.receive_json_from(timeout=5))["event_id"] == "e-1"
    assert (await communicator.receive_json_from(timeout=5))["event_id"] == "e-2"
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()
