"""The two writes every routing path ends in: a conversation goes to an agent, or it waits in a
team's queue. Callers hold the conversation's row lock (and the agent's, to hand over)."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser

from inbox.models import Conversation
from routing.broadcast import routing_broadcast_on_commit
from routing.models import Assignment


def conversation_hand_over(
    *,
    conversation: Conversation,
    agent_id: int,
    team_id: int | None,
    by: str,
    now: datetime,
    strategy: str = "",
    rule_id: int | None = None,
    actor: AbstractBaseUser | None = None,
    capacity_override: bool = False,
) -> Assignment:
    """Give the conversation to the agent, record the assignment and announce it on commit."""
    Conversation.objects.filter(pk=conversation.pk).update(
        assignee_id=agent_id, team_id=team_id, updated_at=now
    )
    conversation.assignee_id, conversation.team_id = agent_id, team_id
    assignment = Assignment.objects.create(
        conversation=conversation,
        agent_id=agent_id,
        team_id=team_id,
        by=by,
        strategy=strategy,
        rule_id=rule_id,
        actor=actor,
        capacity_override=capacity_override,
        assigned_at=now,
    )
    routing_broadcast_on_commit(
        event_type="conversation.assigned",
        conversation=conversation,
        agent_id=agent_id,
        team_id=team_id,
    )
    return assignment


def conversation_enqueue(*, conversation: Conversation, team_id: int, now: datetime) -> None:
    """Leave the conversation unassigned in the team's queue and announce it on commit."""
    Conversation.objects.filter(pk=conversation.pk).update(
        assignee_id=None, team_id=team_id, updated_at=now
    )
    conversation.assignee_id, conversation.team_id = None, team_id
    routing_broadcast_on_commit(
        event_type="conversation.queued", conversation=conversation, agent_id=None, team_id=team_id
    )
