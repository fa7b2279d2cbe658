import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from tests import factories


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def team(channel):
    """A round-robin team serving `channel`, without members."""
    return factories.team(channels=[channel])


@pytest.fixture
def group_listener():
    """Join a channel-layer group; return a function that waits briefly for its next event."""
    layer = get_channel_layer()

    def join(group: str):
        channel_name = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, channel_name)

        async def next_event() -> dict:
            return await asyncio.wait_for(layer.receive(channel_name), timeout=2)

        return async_to_sync(next_event)

    return join
