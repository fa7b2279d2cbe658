"""Automatic routing: rules first, then the team's strategy, else the team's queue."""

import logging
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from inbox.models import Conversation
from routing.capacity import capacity_kind
from routing.models import Agent, Assignment, ConversationRouting, RequiredSkill, Team
from routing.presence import Presence, online_q
from routing.rules import rules_decide
from routing.selectors import (
    Requirements,
    active_rules,
    open_loads,
    routing_facts,
    routing_team,
    stored_requirements,
    team_candidates,
)
from routing.services.handover import conversation_enqueue, conversation_hand_over
from routing.services.queue import queues_drain_on_commit
from routing.strategies import STRATEGIES, eligible

logger = logging.getLogger(__name__)


def locked_active_conversation(conversation_id: int) -> Conversation | None:
    # A blocking lock, always the first one a routing service takes: concurrent changes to one
    # conversation (a redelivered task, a drain, a manager) take turns, and each sees the last.
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("routing")
        .filter(pk=conversation_id, status__in=Conversation.ACTIVE_STATUSES)
        .first()
    )


def _assignee_keeps(*, conversation: Conversation, now: datetime) -> bool:
    """Whether the current assignee (say, of a reopened conversation) can keep it: not offline,
    and within capacity with it counted."""
    # Blocking, after the conversation's lock as everywhere: the count must not race an
    # assignment to the same agent.
    agent = Agent.objects.select_for_update().filter(pk=conversation.assignee_id).first()
    if agent is None:
        return True  # assigned to someone routing does not manage
    load = open_loads(agent_ids=[agent.pk])[agent.pk]
    return agent.presence_at(now) != Presence.OFFLINE and agent.limits.holds(load)


def _routing_decide(*, conversation: Conversation, now: datetime) -> Requirements:
    """Run the rules once for a conversation routing has not seen: apply their priority, tags
    and team, and store what an agent will need."""
    rules = active_rules()
    decision = rules_decide(rules, routing_facts(conversation_id=conversation.pk, rules=rules))
    if decision.priority and decision.priority != conversation.priority:
        conversation.priority = decision.priority
        Conversation.objects.filter(pk=conversation.pk).update(priority=decision.priority)
    if decision.tag_ids:
        conversation.tags.add(*decision.tag_ids)
    conversation.team_id = decision.team_id or conversation.team_id  # written when handed over
    routing = ConversationRouting.objects.create(
        conversation=conversation, rule_id=decision.rule_id, routed_at=now
    )
    RequiredSkill.objects.bulk_create(
        RequiredSkill(routing=routing, skill_id=skill_id, level=level)
        for skill_id, level in decision.skills.items()
    )
    return Requirements(rule_id=decision.rule_id, skills=decision.skills)


def team_route(
    *,
    conversation: Conversation,
    team: Team,
    requirements: Requirements,
    now: datetime,
    actor: AbstractBaseUser | None = None,
) -> Assignment | None:
    """Hand the locked conversation to the team's best eligible online member, or queue it."""
    kind = capacity_kind(conversation.source)
    candidates = eligible(
        team_candidates(team_id=team.pk, now=now, skill_ids=requirements.skills.keys()),
        kind=kind,
        required=requirements.skills,
    )
    contended = False
    for candidate in STRATEGIES[team.strategy](candidates):
        # SKIP LOCKED: another worker is assigning to this agent; trying the next one keeps
        # workers from queueing behind each other. What this skips is drained after commit.
        agent = (
            Agent.objects.select_for_update(skip_locked=True)
            .filter(online_q(now), pk=candidate.agent_id)
            .first()
        )
        if agent is None:
            contended = True
            continue
        # Exact, because every assignment to an agent happens under its row lock.
        if agent.limits.has_room(open_loads(agent_ids=[agent.pk])[agent.pk], kind):
            return conversation_hand_over(
                conversation=conversation,
                agent_id=agent.pk,
                team_id=team.pk,
                by=Assignment.By.RULE if requirements.rule_id else Assignment.By.STRATEGY,
                strategy=team.strategy,
                rule_id=requirements.rule_id,
                actor=actor,
                now=now,
            )
    conversation_enqueue(conversation=conversation, team_id=team.pk, now=now)
    if contended:
        queues_drain_on_commit(team_ids=[team.pk])
    return None


@transaction.atomic(durable=True)
def conversation_route(*, conversation_id: int, now: datetime | None = None) -> Assignment | None:
    """Route a new, reopened or unassigned conversation.

    The first time, rules decide its team, priority, tags and required skills; then the team's
    strategy picks an online agent with room, or the conversation waits in the team's queue.
    Return the new assignment, or None when it was queued, is inactive, stays with an
    assignee who can keep it, or no team serves its channel. Safe to call again.

    Durable because it holds row locks that other routing workers wait on or skip: no caller
    may stretch them over a longer transaction.
    """
    now = now or timezone.now()
    conversation = locked_active_conversation(conversation_id)
    if conversation is None:
        return None
    if conversation.assignee_id is not None and _assignee_keeps(conversation=conversation, now=now):
        return None
    requirements = stored_requirements(conversations=[conversation]).get(
        conversation.pk
    ) or _routing_decide(conversation=conversation, now=now)
    team = routing_team(team_id=conversation.team_id, channel_id=conversation.channel_id)
    if team is None:
        logger.warning(
            "No team serves channel %s: conversation %s stays unrouted.",
            conversation.channel_id,
            conversation.pk,
        )
        return None
    return team_route(conversation=conversation, team=team, requirements=requirements, now=now)
