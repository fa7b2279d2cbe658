"""Automatic routing: rules first, then the team's strategy, else the team's queue."""

import logging
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from inbox.models import Conversation, Customer
from routing.capacity import capacity_kind
from routing.config import ConfigSnapshot, config_snapshot
from routing.models import Agent, Assignment, ConversationRouting, RequiredSkill, Team
from routing.presence import Presence
from routing.rules import Facts, rules_decide
from routing.selectors import (
    Requirements,
    customer_tag_ids,
    first_online_agent_locked,
    open_loads,
    routing_facts,
    stored_requirements,
    team_candidates,
)
from routing.services.handover import conversation_enqueue, conversation_hand_over
from routing.services.queue import queues_drain_on_commit
from routing.strategies import STRATEGIES, eligible
from sla.services.clocks import sla_on_priority_change

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


def _routing_decide(
    *, conversation: Conversation, config: ConfigSnapshot, facts: Facts, now: datetime
) -> Requirements:
    """Run the rules once for a conversation routing has not seen: apply their priority, tags
    and team, and store the decision when there is something to remember (a rule to credit,
    skills to require) or no team serves the conversation (so the sweep does not take it for
    one routing never saw). Otherwise routing it again needs nothing."""
    decision = rules_decide(config.rules, facts)
    if decision.priority and decision.priority != conversation.priority:
        conversation.priority = decision.priority
        Conversation.objects.filter(pk=conversation.pk).update(priority=decision.priority)
        sla_on_priority_change(conversation_id=conversation.pk, now=now)  # its targets change
    if decision.tag_ids:
        conversation.tags.add(*decision.tag_ids)
    conversation.team_id = decision.team_id or conversation.team_id  # written when handed over
    unroutable = (
        config.team_for(team_id=conversation.team_id, channel_id=conversation.channel_id) is None
    )
    if decision.rule_id or decision.skills or unroutable:
        routing = ConversationRouting.objects.create(
            conversation=conversation, rule_id=decision.rule_id, routed_at=now
        )
        RequiredSkill.objects.bulk_create(
            RequiredSkill(routing=routing, skill_id=skill_id, level=level)
            for skill_id, level in decision.skills.items()
        )
    return Requirements(rule_id=decision.rule_id, skills=decision.skills)


def _requirements(
    *, conversation: Conversation, config: ConfigSnapshot, now: datetime
) -> Requirements:
    """What routing decided for the conversation, deciding it now if routing never saw it: a
    conversation with a team was routed before (rules that left nothing to store)."""
    stored = stored_requirements(conversations=[conversation]).get(conversation.pk)
    if stored is not None:
        return stored
    if conversation.team_id is not None:
        return Requirements()
    facts = routing_facts(conversation_id=conversation.pk, config=config)
    return _routing_decide(conversation=conversation, config=config, facts=facts, now=now)


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
        team_candidates(team=team, now=now, skill_ids=requirements.skills.keys()),
        kind=kind,
        required=requirements.skills,
    )
    ranked = [candidate.agent_id for candidate in STRATEGIES[team.strategy](candidates)]
    contended = False
    while locked := first_online_agent_locked(agent_ids=ranked, now=now):
        agent_id, capacity = locked
        # Those ranked higher were skipped: another worker is assigning to them (or they just
        # went offline). Taking the next keeps workers from queueing behind each other; what
        # this skips is drained after commit.
        contended = contended or agent_id != ranked[0]
        # Exact, because every assignment to an agent happens under its row lock.
        if capacity.has_room(open_loads(agent_ids=[agent_id])[agent_id], kind):
            return conversation_hand_over(
                conversation=conversation,
                agent_id=agent_id,
                team_id=team.pk,
                by=Assignment.By.RULE if requirements.rule_id else Assignment.By.STRATEGY,
                strategy=team.strategy,
                rule_id=requirements.rule_id,
                actor=actor,
                now=now,
            )
        ranked = ranked[ranked.index(agent_id) + 1 :]
    contended = contended or bool(ranked)
    conversation_enqueue(conversation=conversation, team_id=team.pk, now=now)
    if contended:
        queues_drain_on_commit(team_ids=[team.pk])
    return None


def _route_to_team(
    *, conversation: Conversation, config: ConfigSnapshot, requirements: Requirements, now: datetime
) -> Assignment | None:
    team = config.team_for(team_id=conversation.team_id, channel_id=conversation.channel_id)
    if team is None:
        logger.warning(
            "No team serves channel %s: conversation %s stays unrouted.",
            conversation.channel_id,
            conversation.pk,
        )
        return None
    return team_route(conversation=conversation, team=team, requirements=requirements, now=now)


def new_conversation_route(
    *,
    conversation: Conversation,
    platform: str,
    first_message: str,
    customer: Customer,
    now: datetime,
) -> Assignment | None:
    """Route a conversation the caller has just created, inside the caller's transaction
    (ingest's), so that it appears already assigned. Return the assignment, or None when it
    was queued or no team serves its channel.

    Unlike `conversation_route` this does not own its transaction, so it only takes agents'
    row locks with SKIP LOCKED: it never waits while holding the caller's locks, and cannot
    deadlock with a drain. The lock on the chosen agent lasts until the caller commits, so
    the caller must commit soon after.
    """
    config = config_snapshot()
    facts = Facts(
        platform=platform,
        channel_id=conversation.channel_id,
        source=conversation.source,
        language=conversation.language or customer.language,
        sentiment=conversation.sentiment,
        priority=conversation.priority,
        first_message=first_message,
        customer_tag_ids=customer_tag_ids(customer_id=customer.pk)
        if config.uses_customer_tags
        else frozenset(),
    )
    requirements = _routing_decide(conversation=conversation, config=config, facts=facts, now=now)
    return _route_to_team(
        conversation=conversation, config=config, requirements=requirements, now=now
    )


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
    config = config_snapshot()
    requirements = _requirements(conversation=conversation, config=config, now=now)
    return _route_to_team(
        conversation=conversation, config=config, requirements=requirements, now=now
    )
