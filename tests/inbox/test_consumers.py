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
    assert event == {
        "event": "message-created", "channel_id": channel.pk, "conversation_id": message.conversation_id,
        "message_id": message.pk,
    }
    await communicator.disconnect()
