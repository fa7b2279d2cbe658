"""Reads for routing, the console and the API."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber

from helpdesk.errors import NotFound
from inbox.models import Conversation, Customer, Message
from routing.capacity import DM, Capacity, Load
from routing.models import Agent, AgentSkill, Assignment, RequiredSkill, Rule, Team
from routing.permissions import can_assign
from routing.presence import online_q
from routing.rules import Facts
from routing.strategies import Candidate
from sla.selectors import nearest_deadline

PRIORITY_RANK = Case(
    When(priority=Conversation.Priority.URGENT, then=Value(0)),
    When(priority=Conversation.Priority.HIGH, then=Value(1)),
    When(priority=Conversation.Priority.MEDIUM, then=Value(2)),
    default=Value(3),
)


def sla_deadline() -> Expression:
    """The conversation's nearest SLA deadline, which orders a team's queue after priority;
    null when no clock runs."""
    return nearest_deadline()


def _queue_order() -> list[OrderBy]:
    return [
        PRIORITY_RANK.asc(),
        sla_deadline().asc(nulls_last=True),
        F("created_at").asc(),
        F("pk").asc(),
    ]


def team_queue(*, team_id: int) -> QuerySet[Conversation]:
    """The team's waiting conversations, next first: priority, then SLA deadline (annotated as
    `sla_deadline`), then age."""
    return (
        Conversation.objects.filter(
            team_id=team_id, assignee__isnull=True, status__in=Conversation.ACTIVE_STATUSES
        )
        .annotate(sla_deadline=sla_deadline())
        .order_by(*_queue_order())
    )


def team_queue_positions(*, team_id: int) -> QuerySet[Conversation]:
    """The team's queue, each conversation with its 1-based `position` in it."""
    return team_queue(team_id=team_id).annotate(
        position=Window(RowNumber(), order_by=_queue_order())
    )


def open_loads(*, agent_ids: Iterable[int]) -> dict[int, Load]:
    """Each agent's open and pending conversations, split by capacity kind."""
    agent_ids = list(agent_ids)
    rows = (
        Conversation.objects.filter(
            assignee_id__in=agent_ids, status__in=Conversation.ACTIVE_STATUSES
        )
        .values("assignee_id")
        .annotate(total=Count("pk"), dm=Count("pk", filter=Q(source=DM)))
        .order_by()
    )
    loads = dict.fromkeys(agent_ids, Load())
    for row in rows:
        loads[row["assignee_id"]] = Load(dm=row["dm"], public=row["total"] - row["dm"])
    return loads


def _latest_assignment_at(**filters) -> Subquery:
    return Subquery(
        Assignment.objects.filter(agent=OuterRef("pk"), **filters)
        .order_by("-assigned_at")
        .values("assigned_at")[:1]
    )


def team_candidates(
    *, team_id: int, now: datetime, skill_ids: Collection[int] | None = None
) -> list[Candidate]:
    """The team's online members with their capacity, load, last assignments and skills (only
    those in `skill_ids`, the ones the conversations at hand require; all when None)."""
    rows = list(
        Agent.objects.filter(online_q(now), teams=team_id)
        .annotate(
            last_team_assignment_at=_latest_assignment_at(team_id=team_id),
            last_assignment_at=_latest_assignment_at(),
        )
        .values_list(
            "pk",
            "capacity",
            "dm_capacity",
            "public_capacity",
            "last_team_assignment_at",
            "last_assignment_at",
        )
    )
    agent_ids = [row[0] for row in rows]
    loads = open_loads(agent_ids=agent_ids)
    skills: dict[int, dict[int, int]] = {agent_id: {} for agent_id in agent_ids}
    if skill_ids is None or skill_ids:
        agent_skills = AgentSkill.objects.filter(agent_id__in=agent_ids)
        if skill_ids is not None:
            agent_skills = agent_skills.filter(skill_id__in=skill_ids)
        for agent_id, skill_id, level in agent_skills.values_list("agent_id", "skill_id", "level"):
            skills[agent_id][skill_id] = level
    return [
        Candidate(
            agent_id=agent_id,
            capacity=Capacity(total=capacity, dm=dm_capacity, public=public_capacity),
            load=loads[agent_id],
            skills=skills[agent_id],
            last_team_assignment_at=last_team_at,
            last_assignment_at=last_at,
        )
        for agent_id, capacity, dm_capacity, public_capacity, last_team_at, last_at in rows
    ]


@dataclass(frozen=True)
class Requirements:
    """What routing decided an agent needs for a conversation, and the rule to credit."""

    rule_id: int | None = None
    skills: dict[int, int] = field(default_factory=dict)  # skill id -> minimum level


def stored_requirements(*, conversations: Iterable[Conversation]) -> dict[int, Requirements]:
    """What routing decided for each conversation it has already seen (the conversations come
    with `select_related("routing")`); those it has not seen are left out."""
    requirements = {
        conversation.pk: Requirements(rule_id=conversation.routing.rule_id)
        for conversation in conversations
        if hasattr(conversation, "routing")
    }
    if requirements:
        for conversation_id, skill_id, level in RequiredSkill.objects.filter(
            routing_id__in=list(requirements)
        ).values_list("routing_id", "skill_id", "level"):
            requirements[conversation_id].skills[skill_id] = level
    return requirements


def active_rules() -> list[Rule]:
    return list(Rule.objects.filter(is_active=True).prefetch_related("customer_tags", "add_tags"))


def routing_facts(*, conversation_id: int, rules: list[Rule]) -> Facts:
    """The conversation as rules see it; its first message and the customer's tags are read
    only when some rule looks at them."""
    first_message = (
        Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.INBOUND)
        .order_by("created_at", "pk")
        .values("content")[:1]
    )
    row = (
        Conversation.objects.filter(pk=conversation_id)
        .annotate(
            first_message=Subquery(first_message)
            if any(rule.keywords for rule in rules)
            else Value("")
        )
        .values(
            "channel_id",
            "channel__platform",
            "source",
            "language",
            "customer__language",
            "sentiment",
            "priority",
            "customer_id",
            "first_message",
        )
        .get()
    )
    customer_tag_ids: frozenset[int] = frozenset()
    if any(rule.customer_tags.all() for rule in rules):
        customer_tag_ids = frozenset(
            Customer.tags.through.objects.filter(customer_id=row["customer_id"]).values_list(
                "tag_id", flat=True
            )
        )
    return Facts(
        platform=row["channel__platform"],
        channel_id=row["channel_id"],
        source=row["source"],
        language=row["language"] or row["customer__language"],
        sentiment=row["sentiment"],
        priority=row["priority"],
        first_message=row["first_message"] or "",
        customer_tag_ids=customer_tag_ids,
    )


def routing_team(*, team_id: int | None, channel_id: int) -> Team | None:
    """The conversation's team; without one, the team that gets the channel's conversations
    when no rule chooses: the oldest of those serving it."""
    if team_id is not None:
        return Team.objects.filter(pk=team_id).first()
    return Team.objects.filter(channels=channel_id).order_by("pk").first()


@dataclass(frozen=True)
class AgentStatus:
    agent: Agent
    presence: str
    load: Load


def agents_overview(*, now: datetime) -> list[AgentStatus]:
    """Every agent with presence, load and capacity, for the console and the API."""
    agents = list(
        Agent.objects.select_related("user").prefetch_related("teams").order_by("user__username")
    )
    loads = open_loads(agent_ids=[agent.pk for agent in agents])
    return [
        AgentStatus(agent=agent, presence=agent.presence_at(now), load=loads[agent.pk])
        for agent in agents
    ]


def team_queue_for_user(
    *, user: AbstractBaseUser | AnonymousUser, team_id: int
) -> QuerySet[Conversation]:
    """The team's queue with positions, if the user may see it: members, and those who assign."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None or not (can_assign(user) or team.members.filter(pk=user.pk).exists()):
        raise NotFound(f"There is no team {team_id} you can see.")
    return team_queue_positions(team_id=team_id)
