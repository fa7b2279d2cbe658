"""Assignment and transfer by hand, by people allowed to (see routing.permissions)."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from helpdesk.errors import NotFound
from inbox.models import Conversation
from routing.capacity import capacity_kind
from routing.errors import (
    AgentAtCapacity,
    AssignmentForbidden,
    ConversationNotActive,
    UnknownAgent,
    UnknownTeam,
)
from routing.models import Agent, Assignment, Team
from routing.permissions import can_assign, can_override_capacity
from routing.selectors import Requirements, open_loads, stored_requirements
from routing.services.handover import conversation_hand_over
from routing.services.queue import agent_queues_drain_on_commit
from routing.services.route import locked_active_conversation, team_route


def _check_may_assign(actor: AbstractBaseUser, *, override: bool = False) -> None:
    if not can_assign(actor):
        raise AssignmentForbidden("You may not assign or transfer conversations.")
    if override and not can_override_capacity(actor):
        raise AssignmentForbidden("You may not assign beyond an agent's capacity.")


def _conversation_for_change(conversation_id: int) -> Conversation:
    conversation = locked_active_conversation(conversation_id)
    if conversation is None:
        if Conversation.objects.filter(pk=conversation_id).exists():
            raise ConversationNotActive(f"Conversation {conversation_id} is resolved or closed.")
        raise NotFound(f"There is no conversation {conversation_id}.")
    return conversation


@transaction.atomic(durable=True)
def conversation_assign(
    *,
    conversation_id: int,
    agent_id: int,
    actor: AbstractBaseUser,
    override: bool = False,
    now: datetime | None = None,
) -> Assignment:
    """Give the conversation to the agent (online or not). Refuse an agent at capacity unless
    `override`, which needs its own permission. Assigning to the current assignee returns
    the assignment that put it there.

    Durable because it holds routing's row locks: no caller may stretch them.
    """
    now = now or timezone.now()
    _check_may_assign(actor, override=override)
    conversation = _conversation_for_change(conversation_id)
    # Blocking, after the conversation's lock, the order every routing service takes them in.
    agent = Agent.objects.select_for_update().filter(pk=agent_id).first()
    if agent is None:
        raise UnknownAgent(f"There is no agent {agent_id}.")
    previous_id = conversation.assignee_id
    if previous_id == agent.pk:
        current = conversation.assignments.filter(agent=agent).first()
        if current is not None:
            return current
    load = open_loads(agent_ids=[agent.pk])[agent.pk]
    kind = capacity_kind(conversation.source)
    beyond_capacity = previous_id != agent.pk and not agent.limits.has_room(load, kind)
    if beyond_capacity and not override:
        raise AgentAtCapacity(
            f"{agent} has no room for another {kind} conversation: they hold {load.total} "
            f"of {agent.capacity}.",
            extra={"agent": agent.pk, "kind": kind, "load": load.total, "capacity": agent.capacity},
        )
    assignment = conversation_hand_over(
        conversation=conversation,
        agent_id=agent.pk,
        team_id=conversation.team_id,
        by=Assignment.By.PERSON,
        actor=actor,
        capacity_override=beyond_capacity,
        now=now,
    )
    if previous_id is not None and previous_id != agent.pk:
        agent_queues_drain_on_commit(agent_id=previous_id)
    return assignment


@transaction.atomic(durable=True)
def conversation_transfer(
    *, conversation_id: int, team_id: int, actor: AbstractBaseUser, now: datetime | None = None
) -> Assignment | None:
    """Move the conversation to another team: its strategy picks an agent now, or the
    conversation waits in its queue (then None is returned). Skills that rules required still
    apply; the assignment is credited to the strategy, with `actor` as who moved it.

    Durable because it holds routing's row locks: no caller may stretch them.
    """
    _check_may_assign(actor)
    return _team_transfer(conversation_id=conversation_id, team_id=team_id, actor=actor, now=now)


@transaction.atomic(durable=True)
def conversation_escalate(
    *, conversation_id: int, team_id: int, now: datetime | None = None
) -> None:
    """Move the conversation to a team because an SLA escalation says so (no person acts).
    The SLA app calls it through SLA_TEAM_REASSIGN_HOOK, after the breach committed.

    Durable for the same reason as `conversation_transfer`.
    """
    _team_transfer(conversation_id=conversation_id, team_id=team_id, actor=None, now=now)


def _team_transfer(
    *, conversation_id: int, team_id: int, actor: AbstractBaseUser | None, now: datetime | None
) -> Assignment | None:
    now = now or timezone.now()
    conversation = _conversation_for_change(conversation_id)
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise UnknownTeam(f"There is no team {team_id}.")
    previous_id = conversation.assignee_id
    skills = (
        stored_requirements(conversations=[conversation])
        .get(conversation.pk, Requirements())
        .skills
    )
    assignment = team_route(
        conversation=conversation,
        team=team,
        requirements=Requirements(skills=skills),
        actor=actor,
        now=now,
    )
    if previous_id is not None and (assignment is None or assignment.agent_id != previous_id):
        agent_queues_drain_on_commit(agent_id=previous_id)
    return assignment
