"""SLA reads for the API, the console and routing's queues. Each takes or builds on a
conversation queryset the caller owns, so visibility and other filters stay the caller's."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import floor

from django.db.models import (
    DateTimeField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
)
from django.db.models.functions import Coalesce

from inbox.models import Conversation
from sla import clockmath
from sla.calendars import policy_calendar
from sla.models import Clock


class SlaFilterState(TextChoices):
    AT_RISK = "at_risk", "At risk: a running clock has passed its warning"
    BREACHED = "breached", "Breached: an active clock has passed its deadline"


def nearest_deadline() -> Subquery:
    """An expression for Conversation querysets: the nearest deadline among the conversation's
    running clocks, null if none runs. Each row's lookup is one index-only read of the
    `clock_running_deadline` index."""
    running = Clock.objects.filter(conversation_id=OuterRef("pk"), state=Clock.State.RUNNING)
    return Subquery(
        running.order_by("deadline").values("deadline")[:1], output_field=DateTimeField()
    )


# Stands for "no running clock": keeps the order total, so a cursor can point past it.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


def conversations_by_sla_deadline(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Annotate `sla_deadline` (see `nearest_deadline`; NO_DEADLINE when no clock runs) and
    order by it, nearest first, then by id: conversations with no running clock come last."""
    return queryset.annotate(sla_deadline=Coalesce(nearest_deadline(), Value(NO_DEADLINE))).order_by(
        "sla_deadline", "pk"
    )


def conversations_sla_filter(
    queryset: QuerySet[Conversation], *, state: str, now: datetime
) -> QuerySet[Conversation]:
    """Keep the conversations with a clock at risk or breached at `now` (see SlaFilterState).
    Both read only the clocks concerned, through partial indexes on active clocks."""
    if state == SlaFilterState.AT_RISK:
        clocks = Clock.objects.filter(
            state=Clock.State.RUNNING, breached_at__isnull=True, warn_at__lte=now, deadline__gt=now
        )
    else:
        clocks = Clock.objects.exclude(state=Clock.State.STOPPED).filter(
            Q(breached_at__isnull=False) | Q(deadline__lte=now)
        )
    return queryset.filter(pk__in=clocks.values("conversation_id"))


def conversations_with_sla(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Prefetch what `clock_readings` needs for every conversation: the clocks, their policies
    and calendars; three queries whatever the number of conversations."""
    clocks = Clock.objects.select_related("policy__calendar").prefetch_related(
        "policy__calendar__intervals", "policy__calendar__holidays"
    )
    return queryset.prefetch_related(Prefetch("sla_clocks", queryset=clocks))


@dataclass(frozen=True)
class ClockReading:
    target: str
    status: clockmath.Status
    deadline: datetime | None
    remaining_seconds: int | None  # business seconds; negative once overdue; None once stopped


def clock_reading(clock: Clock, *, now: datetime) -> ClockReading:
    """Read one clock at `now`; its policy and calendar should be loaded already."""
    active = clock.state != Clock.State.STOPPED
    used_time = clock.consumed
    if clock.state == Clock.State.RUNNING:
        used_time = clockmath.used(
            calendar=policy_calendar(clock.policy),
            consumed=clock.consumed,
            resumed_at=clock.resumed_at,
            at=now,
        )
    status = clockmath.status(
        stopped_outcome=None if active else clock.outcome,
        paused=clock.state == Clock.State.PAUSED,
        used_time=used_time,
        budget=clock.budget,
        warn_point=clock.policy.warning_point(clock.budget),
        breached=clock.breached_at is not None,
    )
    remaining = floor((clock.budget - used_time) / timedelta(seconds=1)) if active else None
    return ClockReading(
        target=clock.target, status=status, deadline=clock.deadline, remaining_seconds=remaining
    )


def clock_readings(conversation: Conversation, *, now: datetime) -> dict[str, ClockReading]:
    """Read the conversation's tracked clocks at `now`, by target (prefetch with
    `conversations_with_sla`); a target no longer tracked is left out."""
    return {
        clock.target: clock_reading(clock, now=now)
        for clock in conversation.sla_clocks.all()
        if clock.outcome != Clock.Outcome.CANCELLED
    }
