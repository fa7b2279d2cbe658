"""The two writes every routing path ends in: a conversation goes to an agent, or it waits in a
team's queue. Callers hold the conversation's row lock (and the agent's, to hand over)."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection

from inbox.models import Conversation
from routing.broadcast import routing_broadcast_on_commit
from routing.models import Assignment
from routing.sql import execute, placeholders, rows, timestamp_param

# Hand-written, as routing's hot-path reads (see routing/sql.py).
_PLACE_SQL = (
    f"UPDATE {Conversation._meta.db_table} "  # noqa: S608  (the table name from the model)
    "SET assignee_id = %s, team_id = %s, updated_at = %s WHERE id = %s"
)
_ASSIGNMENT_COLUMNS = [
    field.attname for field in Assignment._meta.concrete_fields if not field.primary_key
]
_ASSIGNMENT_SQL = (
    f"INSERT INTO {Assignment._meta.db_table} "  # noqa: S608  (names from the model)
    f"({', '.join(connection.ops.quote_name(column) for column in _ASSIGNMENT_COLUMNS)}) "
    f"VALUES ({placeholders(_ASSIGNMENT_COLUMNS)}) RETURNING id"
)


def _conversation_place(
    conversation: Conversation, *, assignee_id: int | None, team_id: int | None, now: datetime
) -> None:
    execute(_PLACE_SQL, [assignee_id, team_id, timestamp_param(now), conversation.pk])
    conversation.assignee_id, conversation.team_id, conversation.updated_at = (
        assignee_id,
        team_id,
        now,
    )


def _assignment_record(**values) -> Assignment:
    """Insert the assignment; return it as if read back."""
    ordered = [values[column] for column in _ASSIGNMENT_COLUMNS]
    params = [
        timestamp_param(value) if column == "assigned_at" else value
        for column, value in zip(_ASSIGNMENT_COLUMNS, ordered, strict=True)
    ]
    [(pk,)] = rows(_ASSIGNMENT_SQL, params)
    return Assignment.from_db(connection.alias, ["id", *_ASSIGNMENT_COLUMNS], [pk, *ordered])


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
    _conversation_place(conversation, assignee_id=agent_id, team_id=team_id, now=now)
    assignment = _assignment_record(
        conversation_id=conversation.pk,
        agent_id=agent_id,
        team_id=team_id,
        by=by,
        strategy=strategy,
        rule_id=rule_id,
        actor_id=actor.pk if actor is not None else None,
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
    _conversation_place(conversation, assignee_id=None, team_id=team_id, now=now)
    routing_broadcast_on_commit(
        event_type="conversation.queued", conversation=conversation, agent_id=None, team_id=team_id
    )
