"""Reads for routing, the console and the API."""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import (
    Case,
    Expression,
    F,
    OrderBy,
    OuterRef,
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
from routing.config import ConfigSnapshot
from routing.models import Agent, AgentSkill, Assignment, RequiredSkill, Team
from routing.permissions import can_assign
from routing.presence import Presence, presence_cutoff
from routing.rules import Facts
from routing.sql import placeholders, rows, timestamp_column, timestamp_param
from routing.strategies import RECENCY, Candidate, Recency
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


# Routing's hot-path reads, hand-written (see routing/sql.py).
_CONVERSATION = Conversation._meta.db_table
_AGENT = Agent._meta.db_table
_MEMBERS = Team.members.through._meta.db_table
_ASSIGNMENT = Assignment._meta.db_table
_AGENT_SKILL = AgentSkill._meta.db_table
_ACTIVE = placeholders(Conversation.ACTIVE_STATUSES)

# Counted over the partial index of active conversations (inbox.Conversation.Meta).
_LOADS_SQL = (
    f"SELECT assignee_id, COUNT(*), SUM(CASE WHEN source = %s THEN 1 ELSE 0 END) "  # noqa: S608  (table names from the models)
    f"FROM {_CONVERSATION} WHERE status IN ({_ACTIVE}) AND assignee_id IN ({{agents}}) "
    "GROUP BY assignee_id"
)
# Timestamps as text: parsing it is several times cheaper than Django's loader for them.
_LAST_IN_TEAM = (
    f"CAST((SELECT MAX(s.assigned_at) FROM {_ASSIGNMENT} s "  # noqa: S608  (table names from the models)
    "WHERE s.agent_id = a.user_id AND s.team_id = m.team_id) AS TEXT)"
)
_LAST_ANYWHERE = (
    f"CAST((SELECT MAX(s.assigned_at) FROM {_ASSIGNMENT} s WHERE s.agent_id = a.user_id) AS TEXT)"  # noqa: S608
)
_CANDIDATES_SQL = (
    "SELECT a.user_id, a.capacity, a.dm_capacity, a.public_capacity, {last_in_team}, "  # noqa: S608  (table names from the models)
    f"{{last_anywhere}}, "
    f"(SELECT COUNT(*) FROM {_CONVERSATION} c WHERE c.assignee_id = a.user_id AND c.status IN ({_ACTIVE})), "
    f"(SELECT COUNT(*) FROM {_CONVERSATION} c WHERE c.assignee_id = a.user_id AND c.status IN ({_ACTIVE}) "
    "AND c.source = %s) "
    f"FROM {_AGENT} a JOIN {_MEMBERS} m ON m.agent_id = a.user_id "
    "WHERE m.team_id = %s AND a.presence = %s AND a.last_heartbeat_at >= %s"
)
_SKILLS_SQL = f"SELECT agent_id, skill_id, level FROM {_AGENT_SKILL} WHERE agent_id IN ({{agents}})"  # noqa: S608


_ONLINE_AGENT_SQL = (
    f"SELECT user_id, capacity, dm_capacity, public_capacity FROM {_AGENT} "  # noqa: S608  (table names from the models)
    "WHERE user_id IN ({agents}) AND presence = %s AND last_heartbeat_at >= %s "
    "ORDER BY CASE user_id {ranks} END LIMIT 1"
)
# Agents tried per locking statement: usually the first is free, and a short list keeps the
# statement cheap to build and to sort.
LOCK_WINDOW = 4


def open_loads(*, agent_ids: Iterable[int]) -> dict[int, Load]:
    """Each agent's open and pending conversations, split by capacity kind."""
    agent_ids = list(agent_ids)
    loads = dict.fromkeys(agent_ids, Load())
    if agent_ids:
        sql = _LOADS_SQL.format(agents=placeholders(agent_ids))
        for agent_id, total, dm in rows(sql, [DM, *Conversation.ACTIVE_STATUSES, *agent_ids]):
            loads[agent_id] = Load(dm=dm, public=total - dm)
    return loads


@cache
def _online_agent_sql(count: int, *, skip_locked: bool) -> str:
    sql = _ONLINE_AGENT_SQL.format(
        agents=placeholders(range(count)),
        ranks=" ".join(f"WHEN %s THEN {rank}" for rank in range(count)),
    )
    return sql + " FOR UPDATE SKIP LOCKED" if skip_locked else sql


def first_online_agent_locked(
    *, agent_ids: Sequence[int], now: datetime
) -> tuple[int, Capacity] | None:
    """Lock the row of the first agent in `agent_ids` who is online and whose row no other
    transaction holds (SKIP LOCKED: it is assigning to them, and waiting would queue routing
    workers behind each other); return their id and capacity, or None. One statement for
    every LOCK_WINDOW agents skipped. For services, inside their transaction; SQLite takes no
    row locks, its writers run one at a time."""
    cutoff = timestamp_param(presence_cutoff(now))
    skip_locked = connection.features.has_select_for_update_skip_locked
    for start in range(0, len(agent_ids), LOCK_WINDOW):
        window = agent_ids[start : start + LOCK_WINDOW]
        sql = _online_agent_sql(len(window), skip_locked=skip_locked)
        found = rows(sql, [*window, Presence.ONLINE, cutoff, *window])
        if found:
            agent_id, capacity, dm_capacity, public_capacity = found[0]
            return agent_id, Capacity(total=capacity, dm=dm_capacity, public=public_capacity)
    return None


def _agent_skills(
    *, agent_ids: list[int], skill_ids: Collection[int] | None
) -> dict[int, dict[int, int]]:
    skills: dict[int, dict[int, int]] = {agent_id: {} for agent_id in agent_ids}
    if not agent_ids or (skill_ids is not None and not skill_ids):
        return skills
    sql, params = _SKILLS_SQL.format(agents=placeholders(agent_ids)), list(agent_ids)
    if skill_ids is not None:
        sql += f" AND skill_id IN ({placeholders(skill_ids)})"
        params.extend(skill_ids)
    for agent_id, skill_id, level in rows(sql, params):
        skills[agent_id][skill_id] = level
    return skills


@cache
def _candidates_sql(recency: str | None) -> str:
    return _CANDIDATES_SQL.format(
        last_in_team=_LAST_IN_TEAM if recency == Recency.TEAM else "NULL",
        last_anywhere=_LAST_ANYWHERE if recency == Recency.ANYWHERE else "NULL",
    )


def team_candidates(
    *, team: Team, now: datetime, skill_ids: Collection[int] | None = None
) -> list[Candidate]:
    """The team's online members with their capacity, load, skills (only those in
    `skill_ids`, the ones the conversations at hand require; all when None) and the last
    assignment the team's strategy ranks by (the other is left out)."""
    members = rows(
        _candidates_sql(RECENCY[team.strategy]),
        [
            *Conversation.ACTIVE_STATUSES,
            *Conversation.ACTIVE_STATUSES,
            DM,
            team.pk,
            Presence.ONLINE,
            timestamp_param(presence_cutoff(now)),
        ],
    )
    skills = _agent_skills(agent_ids=[row[0] for row in members], skill_ids=skill_ids)
    return [
        Candidate(
            agent_id=agent_id,
            capacity=Capacity(total=capacity, dm=dm_capacity, public=public_capacity),
            load=Load(dm=dm, public=total - dm),
            skills=skills[agent_id],
            last_team_assignment_at=timestamp_column(last_team_at),
            last_assignment_at=timestamp_column(last_at),
        )
        for agent_id, capacity, dm_capacity, public_capacity, last_team_at, last_at, total, dm in members
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


def customer_tag_ids(*, customer_id: int) -> frozenset[int]:
    return frozenset(
        Customer.tags.through.objects.filter(customer_id=customer_id).values_list(
            "tag_id", flat=True
        )
    )


def routing_facts(*, conversation_id: int, config: ConfigSnapshot) -> Facts:
    """The conversation as rules see it; its first message and the customer's tags are read
    only when some rule looks at them."""
    first_message = (
        Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.INBOUND)
        .order_by("created_at", "pk")
        .values("content")[:1]
    )
    row = (
        Conversation.objects.filter(pk=conversation_id)
        .annotate(first_message=Subquery(first_message) if config.uses_keywords else Value(""))
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
    return Facts(
        platform=row["channel__platform"],
        channel_id=row["channel_id"],
        source=row["source"],
        language=row["language"] or row["customer__language"],
        sentiment=row["sentiment"],
        priority=row["priority"],
        first_message=row["first_message"] or "",
        customer_tag_ids=customer_tag_ids(customer_id=row["customer_id"])
        if config.uses_customer_tags
        else frozenset(),
    )


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
