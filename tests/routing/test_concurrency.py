"""Routing under concurrency, on PostgreSQL: forked workers share the test database."""

import multiprocessing
import os
import random
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connections
from django.db.models import Count
from django.utils import timezone

from inbox.models import Conversation, Customer, Message
from inbox.services import message_ingest
from integrations.models import Channel
from integrations.platforms.base import InboundMessage, Sender
from routing.capacity import DM, PUBLIC, Load, capacity_kind
from routing.models import Agent, Assignment, Team
from routing.presence import Presence
from routing.services import agent_heartbeat, conversation_route
from tests import factories

WORKERS = 8
CONVERSATIONS = 2000
AGENTS = 20
SEED = 20261120
SOURCES = ["dm", "dm", "comment", "mention"]


def _seed_routing(rng: random.Random) -> tuple[list[Channel], list[int]]:
    """Three teams (one per strategy, overlapping members) and skill rules; return the
    channels and the agent ids."""
    channels = [factories.channel() for _ in range(3)]
    skills = [factories.skill() for _ in range(4)]
    agents = []
    for _ in range(AGENTS):
        levels = {skill: rng.randint(1, 5) for skill in rng.sample(skills, rng.randint(0, 3))}
        agents.append(
            factories.agent(
                capacity=rng.randint(3, 60),
                dm_capacity=rng.choice([None, rng.randint(1, 30)]),
                skills=levels,
            )
        )
    for channel, strategy in zip(channels, Team.Strategy.values, strict=True):
        factories.team(channels=[channel], strategy=strategy, members=rng.sample(agents, 12))
    for position, skill in enumerate(skills):
        factories.rule(
            position=position,
            keywords=f"topic{position}",
            required_skill=skill,
            required_level=rng.randint(1, 3),
        )
    return channels, [a.pk for a in agents]


def _message_text(rng: random.Random) -> str:
    return f"about topic{rng.randrange(8)}"  # topics 4-7 need no skill


def _new_conversations(rng: random.Random, channels: list[Channel]) -> list[int]:
    """2,000 conversations stored without routing, as if their routing tasks were pending."""
    now = timezone.now()
    customers = Customer.objects.bulk_create(Customer() for _ in range(CONVERSATIONS))
    conversations = Conversation.objects.bulk_create(
        Conversation(
            channel=rng.choice(channels),
            customer=customer,
            source=rng.choice(SOURCES),
            priority=rng.choice(Conversation.Priority.values),
            created_at=now - timedelta(seconds=i),
            updated_at=now,
            last_message_at=now,
        )
        for i, customer in enumerate(customers)
    )
    Message.objects.bulk_create(
        Message(
            conversation=conversation,
            channel_id=conversation.channel_id,
            direction=Message.Direction.INBOUND,
            sender_type=Message.SenderType.CUSTOMER,
            content=_message_text(rng),
            platform_message_id=f"m-{conversation.pk}",
            created_at=now,
        )
        for conversation in conversations
    )
    return [c.pk for c in conversations]


def _new_messages(rng: random.Random, channels: list[Channel]) -> list[tuple[int, InboundMessage]]:
    """2,000 first messages of new customers, each to open a conversation that ingest routes."""
    messages = []
    for i in range(CONVERSATIONS):
        channel, source = rng.choice(channels), rng.choice(SOURCES)
        event = factories.inbound_event(
            account_id=channel.account_id,
            platform_message_id=f"m-{i}",
            source=source,
            thread_key="" if source == DM else f"post-{i % 50}",
            sender=Sender(external_id=f"customer-{i}"),
            text=_message_text(rng),
        )
        messages.append((channel.pk, event))
    return messages


def _route(conversation_id: int) -> None:
    conversation_route(conversation_id=conversation_id)


def _ingest(message: tuple[int, InboundMessage]) -> None:
    channel_id, event = message
    message_ingest(channel=Channel.objects.get(pk=channel_id), event=event)


def _close_connections_and_pool() -> None:
    """Close every connection, and the psycopg pool if one is configured: a forked child that
    inherited either would talk over its parent's socket."""
    connections.close_all()
    for connection in connections.all(initialized_only=True):
        connection.close_pool()


def _work(index: int, arrive: Callable, items: list, agent_ids: list[int]) -> None:
    """Let a share of the conversations arrive while flipping agents online, away and offline."""
    rng = random.Random(SEED + index)
    try:
        for n, item in enumerate(items):
            arrive(item)
            if n % 8 == 0:
                agent_id, change = rng.choice(agent_ids), rng.random()
                if change < 0.5:
                    agent_heartbeat(agent_id=agent_id, status=Presence.ONLINE)  # drains queues
                elif change < 0.75:
                    agent_heartbeat(agent_id=agent_id, status=Presence.AWAY)
                else:  # heartbeats stopped
                    Agent.objects.filter(pk=agent_id).update(
                        last_heartbeat_at=timezone.now() - timedelta(minutes=5)
                    )
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    finally:
        connections.close_all()


def _replay_capacity_violations(agents: dict[int, Agent]) -> list[tuple[int, int]]:
    """Replay the assignment log and return (assignment, agent) wherever the agent then held
    more than their limits. Nothing is resolved during the run, so loads only grow; each
    agent's assignments are made under its row lock, so their ids follow that order."""
    loads: dict[int, Load] = defaultdict(Load)
    violations = []
    for assignment_id, agent_id, source in Assignment.objects.order_by("pk").values_list(
        "pk", "agent_id", "conversation__source"
    ):
        loads[agent_id] = loads[agent_id].plus_one(capacity_kind(source))
        if not agents[agent_id].limits.holds(loads[agent_id]):
            violations.append((assignment_id, agent_id))
    return violations


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("arrive", "items"),
    [(_route, _new_conversations), (_ingest, _new_messages)],
    ids=["routing-tasks", "ingest"],
)
def test_eight_workers_route_2000_conversations_without_double_assignment_or_overload(
    arrive, items
):
    """By the routing task (conversations stored earlier) and by ingest, which routes each
    conversation it opens in its own transaction."""
    rng = random.Random(SEED)
    channels, agent_ids = _seed_routing(rng)
    work = items(rng, channels)
    _close_connections_and_pool()  # the children must open their own connections
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_work, args=(i, arrive, work[i::WORKERS], agent_ids))
        for i in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0] * WORKERS

    per_conversation = Counter(
        dict(Assignment.objects.values_list("conversation").annotate(n=Count("pk")))
    )
    assert [pk for pk, n in per_conversation.items() if n > 1] == []

    conversations = list(Conversation.objects.values_list("pk", "assignee_id", "team_id", "source"))
    assigned = {pk: assignee for pk, assignee, _, _ in conversations if assignee is not None}
    queued = {
        pk for pk, assignee, team, _ in conversations if assignee is None and team is not None
    }
    assert len(assigned) + len(queued) == CONVERSATIONS
    assert dict(Assignment.objects.values_list("conversation_id", "agent_id")) == assigned

    agents = {agent.pk: agent for agent in Agent.objects.all()}
    assert _replay_capacity_violations(agents) == []
    final_loads: dict[int, Load] = defaultdict(Load)
    for _, assignee, _, source in conversations:
        if assignee is not None:
            final_loads[assignee] = final_loads[assignee].plus_one(capacity_kind(source))
    assert [pk for pk, load in final_loads.items() if not agents[pk].limits.holds(load)] == []
    # The run must exercise both outcomes, or it proves little.
    assert assigned and queued
    assert {DM, PUBLIC} <= {capacity_kind(source) for *_, source in conversations}
