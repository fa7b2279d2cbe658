"""Tell consoles about assignments after commit: the inbox's groups and the agent's and the
team's own."""

from inbox.broadcast import broadcast_on_commit
from inbox.models import Conversation


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def routing_broadcast_on_commit(
    *, event_type: str, conversation: Conversation, agent_id: int | None, team_id: int | None
) -> None:
    """Send `event_type` ("conversation.assigned" or "conversation.queued") on commit, to the
    inbox's groups and to the agent's and the team's own."""
    extra_groups: list[str] = []
    ids: dict[str, int] = {}
    if agent_id is not None:
        ids["agent_id"] = agent_id
        extra_groups.append(agent_group(agent_id))
    if team_id is not None:
        ids["team_id"] = team_id
        extra_groups.append(team_group(team_id))
    broadcast_on_commit(
        event_type=event_type,
        channel_id=conversation.channel_id,
        conversation_id=conversation.pk,
        extra_groups=tuple(extra_groups),
        **ids,
    )
