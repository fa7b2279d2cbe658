"""Tell live consoles about changes, after the transaction that made them commits."""

import logging
from functools import partial
from uuid import uuid4

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def inbox_group(channel_id: int) -> str:
    return f"inbox.{channel_id}"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


ALL_INBOXES_GROUP = "inbox.all"


async def _group_send_all(groups: tuple[str, ...], event: dict) -> None:
    layer = get_channel_layer()
    for group in groups:
        await layer.group_send(group, event)


def _send(groups: tuple[str, ...], event: dict) -> None:
    # One trip into the event loop for all groups: from sync code each async_to_sync call
    # may start a loop and, with channels-redis, a connection of its own.
    async_to_sync(_group_send_all)(groups, event)


def broadcast_on_commit(
    *, event_type: str, channel_id: int, conversation_id: int, extra_groups: tuple[str, ...] = (), **ids: int | str
) -> None:
    """Send `event_type` to the channel's inbox, all-inboxes and conversation groups, and any
    `extra_groups` (an agent's, a team's), on commit.

    Events carry ids only; a console fetches what it shows through views that check access.
    Each carries an `event_id` too: a console in several of these groups receives the event
    once per group and acts on it once. A broadcast failure never undoes the change (robust
    on_commit): the console catches up on reconnect.
    """
    event = {
        "type": event_type, "event_id": uuid4().hex, "channel_id": channel_id, "conversation_id": conversation_id,
        **ids,
    }
    groups = (inbox_group(channel_id), ALL_INBOXES_GROUP, conversation_group(conversation_id), *extra_groups)
    transaction.on_commit(partial(_send, groups, event), robust=True)
