"""Team queues: draining them when agents have room, handing back offline agents' work, and
the periodic sweep that catches capacity freed outside routing."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from helpdesk.transactions import enqueue_on_commit
from inbox.models import Conversation
from routing.capacity import DM, PUBLIC, capacity_kind
from routing.models import Agent, Assignment, Team
from routing.presence import offline_q, online_q
from routing.selectors import (
    Requirements,
    open_loads,
    stored_requirements,
    team_candidates,
    team_queue,
)
from routing.services.handover import conversation_enqueue, conversation_hand_over
from routing.strategies import STRATEGIES, Candidate, eligible

# Queued conversations are locked and matched this many at a time.
QUEUE_PAGE = 100
# How long ingest's own routing task has before the sweep routes a conversation itself.
UNSEEN_GRACE = timedelta(minutes=1)


def queues_drain_on_commit(*, team_ids: Iterable[int]) -> None:
    """Drain each team's queue in a task once the current transaction commits (at once when
    there is none). Robust: if the broker is down the change still stands, and the periodic
    sweep drains the queue later."""
    from routing.tasks import queue_drain_task  # the tasks module imports the services

    for team_id in sorted(set(team_ids)):
        enqueue_on_commit(queue_drain_task, team_id=team_id)


def agent_queues_drain_on_commit(*, agent_id: int) -> None:
    """Drain the queues of the agent's teams after commit: call it wherever the agent may have
    gained room (came online, finished a conversation, got more capacity, joined a team)."""
    queues_drain_on_commit(
        team_ids=Team.objects.filter(members=agent_id).values_list("pk", flat=True)
    )


def _has_any_room(candidate: Candidate) -> bool:
    return any(candidate.capacity.has_room(candidate.load, kind) for kind in (DM, PUBLIC))


def _locked_candidates(*, team: Team, now: datetime) -> list[Candidate]:
    candidates = [c for c in team_candidates(team=team, now=now) if _has_any_room(c)]
    # Blocking locks, taken in id order: two drains of teams sharing agents wait for each other
    # instead of deadlocking, and routing workers skip these agents until this commits.
    locked = list(
        Agent.objects.select_for_update()
        .filter(online_q(now), pk__in=[c.agent_id for c in candidates])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # Counted under the locks, so exact: every assignment to an agent happens under its lock.
    loads = open_loads(agent_ids=locked)
    return [replace(c, load=loads[c.agent_id]) for c in candidates if c.agent_id in loads]


def _queue_page(*, team_id: int, passed_over: list[int]) -> list[Conversation]:
    # SKIP LOCKED: a conversation another worker holds is being routed or changed right now.
    return list(
        team_queue(team_id=team_id)
        .exclude(pk__in=passed_over)
        .select_related("routing")
        .select_for_update(skip_locked=True, of=("self",))[:QUEUE_PAGE]
    )


@transaction.atomic(durable=True)
def queue_drain(*, team_id: int, now: datetime | None = None) -> list[Assignment]:
    """Assign the team's queued conversations, next first, while online members have room.

    A conversation no member can take (a skill nobody online has, a full DM limit) is passed
    over and the next one tried. Durable because it holds the members' row locks that
    routing workers skip: no caller may stretch them over a longer transaction.
    """
    now = now or timezone.now()
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        return []
    candidates = _locked_candidates(team=team, now=now)
    strategy = STRATEGIES[team.strategy]
    assignments: list[Assignment] = []
    passed_over: list[int] = []
    while candidates and (page := _queue_page(team_id=team_id, passed_over=passed_over)):
        requirements = stored_requirements(conversations=page)
        for conversation in page:
            kind = capacity_kind(conversation.source)
            needs = requirements.get(conversation.pk, Requirements())
            ranked = strategy(eligible(candidates, kind=kind, required=needs.skills))
            if not ranked:
                passed_over.append(conversation.pk)
                continue
            chosen_id = ranked[0].agent_id
            assignments.append(
                conversation_hand_over(
                    conversation=conversation,
                    agent_id=chosen_id,
                    team_id=team_id,
                    by=Assignment.By.RULE if needs.rule_id else Assignment.By.STRATEGY,
                    strategy=team.strategy,
                    rule_id=needs.rule_id,
                    now=now,
                )
            )
            candidates = [
                c.assigned(kind=kind, at=now) if c.agent_id == chosen_id else c for c in candidates
            ]
            candidates = [c for c in candidates if _has_any_room(c)]
            if not candidates:
                break
    return assignments


@transaction.atomic(durable=True)
def team_hand_back_offline(*, team_id: int, now: datetime | None = None) -> int:
    """Return the team's open conversations held by offline agents to its queue; return how
    many. Durable like every service that takes routing's row locks."""
    now = now or timezone.now()
    # SKIP LOCKED: a conversation being routed or assigned right now is left to that worker.
    conversations = list(
        Conversation.objects.filter(
            team_id=team_id,
            status__in=Conversation.ACTIVE_STATUSES,
            assignee_id__in=Agent.objects.filter(offline_q(now)).values("pk"),
        ).select_for_update(skip_locked=True, of=("self",))
    )
    for conversation in conversations:
        conversation_enqueue(conversation=conversation, team_id=team_id, now=now)
    return len(conversations)


def unseen_conversations_route(*, now: datetime, limit: int = 200) -> int:
    """Route the active conversations routing has never seen (no team, no assignee, no
    decision stored): their routing failed inside ingest and its task was lost (the broker
    was down). Younger ones are left to that task. Return how many were routed."""
    from routing.services.route import conversation_route  # route imports this module

    unseen = list(
        Conversation.objects.filter(
            routing__isnull=True,
            team__isnull=True,
            assignee__isnull=True,
            status__in=Conversation.ACTIVE_STATUSES,
            created_at__lte=now - UNSEEN_GRACE,
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for conversation_id in unseen:
        conversation_route(conversation_id=conversation_id, now=now)
    return len(unseen)


def queues_sweep(*, now: datetime | None = None) -> None:
    """Periodically: route conversations whose routing task was lost, hand back offline
    agents' conversations in teams that ask for it, then drain every queue, which also
    catches room freed outside routing (a resolved conversation, an agent's capacity raised)."""
    now = now or timezone.now()
    unseen_conversations_route(now=now)
    for team_id in Team.objects.filter(hand_back_offline=True).values_list("pk", flat=True):
        team_hand_back_offline(team_id=team_id, now=now)
    queues_drain_on_commit(
        team_ids=Conversation.objects.filter(
            team__isnull=False, assignee__isnull=True, status__in=Conversation.ACTIVE_STATUSES
        )
        .order_by()
        .values_list("team_id", flat=True)
        .distinct()
    )
