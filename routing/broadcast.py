"""Tell consoles about assignments after commit: the inbox's groups and the agent's and the
team's own, in one hop to the channel layer."""

from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from inbox.broadcast import ALL_INBOXES_GROUP, conversation_group, inbox_group
from inbox.models import Conversation


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


async def _group_send(groups: list[str], event: dict) -> None:
    layer = get_channel_layer()
    for group in groups:
        await layer.group_send(group, event)


def routing_broadcast_on_commit(
    *, event_type: str, conversation: Conversation, agent_id: int | None, team_id: int | None
) -> None:
    """Send `event_type` ("conversation.assigned" or "conversation.queued") on commit.

    Like inbox broadcasts, events carry ids only and a failed send never undoes the change.
    All groups go in one sync-to-async hop, which costs more than a send to the in-memory layer.
    """
    event = {
        "type": event_type,
        "channel_id": conversation.channel_id,
        "conversation_id": conversation.pk,
    }
    groups = [
        inbox_group(conversation.channel_id),
        ALL_INBOXES_GROUP,
        conversation_group(conversation.pk),
    ]
    if agent_id is not None:
        event["agent_id"] = agent_id
        groups.append(agent_group(agent_id))
    if team_id is not None:
        event["team_id"] = team_id
        groups.append(team_group(team_id))
    transaction.on_commit(partial(async_to_sync(_group_send), groups, event), robust=True)
