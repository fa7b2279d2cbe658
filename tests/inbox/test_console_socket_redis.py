"""A console socket on the production channel layer (channels-redis) stays open while idle
and still receives events afterwards."""

import asyncio
import json

import pytest
import websockets
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import Client

from inbox.broadcast import ALL_INBOXES_GROUP
from tests import factories

# Longer than the redis client's default socket timeout and channels-redis's blocking receive
# (5 s each), several times over.
IDLE_SECONDS = 30


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def _idle_then_receive(url: str, cookie: str, origin: str) -> dict:
    async with websockets.connect(url, additional_headers={"Cookie": cookie}, origin=origin) as socket:
        # Holding the socket idle is the behaviour under test, not a wait for something else:
        # anything received (or a close) within the idle time fails the test.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), timeout=IDLE_SECONDS)
        await get_channel_layer().group_send(
            ALL_INBOXES_GROUP, {"type": "conversation.changed", "conversation_id": 7, "event_id": "after-idle"}
        )
        return json.loads(await asyncio.wait_for(socket.recv(), timeout=10))


@pytest.mark.requires_redis
def test_idle_console_socket_stays_open_and_receives_later_events(asgi_server):
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    manager = factories.user(is_staff=True)
    url = asgi_server.replace("http://", "ws://") + "/ws/inbox/"

    event = async_to_sync(_idle_then_receive)(url, _session_cookie(manager), asgi_server)

    assert event == {"event": "conversation-changed", "conversation_id": 7, "event_id": "after-idle"}
