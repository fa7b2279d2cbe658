"""Per-conversation SLA clocks, moved by what happens to the conversation.

The inbox reports each change through one hook, inside the transaction that made it:

- `sla_on_customer_message`: a customer message was stored and the conversation touched;
- `sla_on_agent_reply`: an agent's reply was actually sent;
- `sla_on_status_change`: the conversation's status changed;
- `sla_on_priority_change`: its priority changed.

Each hook locks the conversation row, then its clocks, so that changes to one conversation's
clocks happen one at a time and in the same lock order everywhere. The conversation lock is
FOR NO KEY UPDATE, the lock an UPDATE of the row takes anyway: the scan's inserts of events
that reference the conversation only need a key-share lock and never wait on it.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from inbox.models import Conversation, Customer, Message
from sla import clockmath
from sla.businesstime import Calendar
from sla.calendars import policy_calendar
from sla.matching import ConversationFacts, policy_match
from sla.models import Clock, ClockOutcome, Policy, Target

# A reply counts once the platform has it; a failed or still queued one does not.
_SENT_STATUSES = (
    Message.DeliveryStatus.SENT,
    Message.DeliveryStatus.DELIVERED,
    Message.DeliveryStatus.READ,
)
_RESPONSE_TARGETS = (Target.FIRST_RESPONSE, Target.NEXT_RESPONSE)


def _conversation_locked(conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("channel")
        .filter(pk=conversation_id)
        .first()
    )


def _clocks_locked(conversation_id: int) -> dict[str, Clock]:
    clocks = (
        Clock.objects.select_for_update(of=("self",))
        .select_related("policy__calendar")
        .prefetch_related("policy__calendar__intervals", "policy__calendar__holidays")
        .filter(conversation_id=conversation_id)
    )
    return {clock.target: clock for clock in clocks}


def _policy_for(conversation: Conversation) -> Policy | None:
    """Return the policy that applies to the conversation, with its targets and calendar."""
    facts = ConversationFacts(
        channel_id=conversation.channel_id,
        platform=conversation.channel.platform,
        source=conversation.source,
        priority=conversation.priority,
        customer_tag_ids=frozenset(
            Customer.tags.through.objects.filter(customer_id=conversation.customer_id).values_list(
                "tag_id", flat=True
            )
        ),
    )
    matched = policy_match(
        policies=Policy.objects.filter(is_active=True).order_by("position", "id"), facts=facts
    )
    if matched is None:
        return None
    return (
        Policy.objects.select_related("calendar")
        .prefetch_related("targets", "calendar__intervals", "calendar__holidays")
        .get(pk=matched.pk)
    )


def _budgets(policy: Policy, priority: str) -> dict[str, timedelta]:
    """Return the policy's targets for a priority, leaving out the ones it does not track."""
    row = next((row for row in policy.targets.all() if row.priority == priority), None)
    if row is None:
        return {}
    return {
        target: timedelta(minutes=minutes)
        for target in Target.values
        if (minutes := row.minutes_for(target))
    }


def _plan(clock: Clock, calendar: Calendar) -> None:
    """Place an active clock's warning and deadline, and the scan's next look at it."""
    running = clock.state == Clock.State.RUNNING
    reach = partial(
        clockmath.reached_at,
        calendar=calendar,
        consumed=clock.consumed,
        since=clock.resumed_at if running else clock.paused_at,
        running=running,
    )
    warn_point = clock.policy.warning_point(clock.budget)
    clock.deadline = reach(point=clock.budget, previous=clock.deadline)
    clock.warn_at = None if warn_point is None else reach(point=warn_point, previous=clock.warn_at)
    clock.next_check_at = clockmath.next_check(
        warn_at=clock.warn_at,
        deadline=clock.deadline,
        warned=clock.warned_at is not None,
        breached=clock.breached_at is not None,
    )


def _used(clock: Clock, calendar: Calendar, at: datetime) -> timedelta:
    return clockmath.used(
        calendar=calendar, consumed=clock.consumed, resumed_at=clock.resumed_at, at=at
    )


def _start(
    *,
    conversation: Conversation,
    clock: Clock | None,
    target: str,
    policy: Policy,
    budget: timedelta,
    at: datetime,
) -> None:
    """Start the target's next cycle at `at`, paused if the conversation waits on the customer."""
    clock = clock or Clock(conversation=conversation, target=target, cycle=0)
    paused = conversation.status == Conversation.Status.PENDING
    clock.cycle += 1
    clock.policy, clock.budget, clock.consumed, clock.started_at = policy, budget, timedelta(), at
    clock.state = Clock.State.PAUSED if paused else Clock.State.RUNNING
    clock.resumed_at, clock.paused_at = (None, at) if paused else (at, None)
    clock.warn_at = clock.deadline = clock.warned_at = clock.breached_at = clock.stopped_at = None
    clock.outcome = ""
    _plan(clock, policy_calendar(policy))
    clock.save()


def _pause(clock: Clock, at: datetime) -> None:
    calendar = policy_calendar(clock.policy)
    clock.consumed = _used(clock, calendar, at)
    clock.state = Clock.State.PAUSED
    clock.resumed_at, clock.paused_at = None, at
    _plan(clock, calendar)
    clock.save()


def _resume(clock: Clock, at: datetime) -> None:
    clock.state = Clock.State.RUNNING
    clock.resumed_at, clock.paused_at = max(at, clock.paused_at), None
    _plan(clock, policy_calendar(clock.policy))
    clock.save()


def _end(clock: Clock, *, at: datetime, outcome: str) -> None:
    clock.state, clock.outcome = Clock.State.STOPPED, outcome
    clock.stopped_at, clock.resumed_at, clock.paused_at = at, None, None
    clock.next_check_at = None
    clock.save()


def _stop(clock: Clock, *, at: datetime, priority: str) -> None:
    """Stop the clock and keep the cycle's outcome. Reaching the deadline is a breach."""
    elapsed = _used(clock, policy_calendar(clock.policy), at)
    breached = clock.breached_at is not None or elapsed >= clock.budget
    clock.consumed = elapsed
    _end(clock, at=at, outcome=Clock.Outcome.BREACHED if breached else Clock.Outcome.MET)
    ClockOutcome.objects.create(
        clock=clock,
        cycle=clock.cycle,
        conversation_id=clock.conversation_id,
        target=clock.target,
        policy_id=clock.policy_id,
        priority=priority,
        started_at=clock.started_at,
        stopped_at=at,
        breached=breached,
        target_seconds=int(clock.budget.total_seconds()),
        business_seconds=int(elapsed.total_seconds()),
        wall_seconds=int((at - clock.started_at).total_seconds()),
    )


def _reapply(clock: Clock, *, policy: Policy, budget: timedelta, at: datetime) -> None:
    """Put the clock under another policy or budget from `at`, keeping the time it has used
    (measured on its old calendar up to `at`) and the events already recorded."""
    if clock.state == Clock.State.RUNNING:
        clock.consumed = _used(clock, policy_calendar(clock.policy), at)
        clock.resumed_at = at
    clock.policy, clock.budget = policy, budget
    _plan(clock, policy_calendar(policy))
    clock.save()


def _active(clock: Clock | None) -> bool:
    return clock is not None and clock.state != Clock.State.STOPPED


def _follow_status(conversation: Conversation, clocks: dict[str, Clock], at: datetime) -> None:
    """Stop every clock of a resolved or closed conversation, pause them while it is pending
    (waiting on the customer), run them while it is open."""
    for clock in clocks.values():
        if not _active(clock):
            continue
        if conversation.status not in Conversation.ACTIVE_STATUSES:
            _stop(clock, at=at, priority=conversation.priority)
        elif (
            conversation.status == Conversation.Status.PENDING
            and clock.state == Clock.State.RUNNING
        ):
            _pause(clock, at)
        elif conversation.status == Conversation.Status.OPEN and clock.state == Clock.State.PAUSED:
            _resume(clock, at)


def _response_start(clocks: dict[str, Clock], at: datetime) -> str | None:
    """Return which response clock a customer message at `at` starts: the first response on
    the first message; the next response on a message after the last reply, unless one is
    already running. A message older than that reply (delivered late) starts nothing."""
    first, following = clocks.get(Target.FIRST_RESPONSE), clocks.get(Target.NEXT_RESPONSE)
    if first is None:
        return Target.FIRST_RESPONSE
    if _active(first) or _active(following):
        return None
    last_stop = max(clock.stopped_at for clock in (first, following) if clock is not None)
    return Target.NEXT_RESPONSE if at >= last_stop else None


def _clocks_start(
    conversation: Conversation, clocks: dict[str, Clock], starts: dict[str, datetime]
) -> None:
    policy = _policy_for(conversation) if starts else None
    if policy is None:
        return
    budgets = _budgets(policy, conversation.priority)
    for target, at in starts.items():
        if target in budgets:
            _start(
                conversation=conversation,
                clock=clocks.get(target),
                target=target,
                policy=policy,
                budget=budgets[target],
                at=at,
            )


@transaction.atomic
def sla_on_customer_message(
    *, conversation_id: int, at: datetime, now: datetime | None = None
) -> None:
    """Apply a customer message sent at `at`: resume the clocks of a conversation the customer
    answered, start the resolution clock with the conversation (a new cycle once it was
    reopened), and start the first or the next response clock.

    Call it after the message is stored and the conversation touched, so that a pending
    conversation the customer answered is already open again.
    """
    _customer_message_apply(conversation_id=conversation_id, at=at, now=now or timezone.now())


@transaction.atomic
def sla_on_customer_messages(*, arrivals: Mapping[int, datetime], now: datetime | None = None) -> None:
    """`sla_on_customer_message` for a batch: `arrivals` maps each conversation to the time of
    its earliest new customer message. One transaction (a savepoint in ingest's) for them all."""
    now = now or timezone.now()
    for conversation_id in sorted(arrivals):  # one lock order for every batch
        _customer_message_apply(conversation_id=conversation_id, at=arrivals[conversation_id], now=now)


def _customer_message_apply(*, conversation_id: int, at: datetime, now: datetime) -> None:
    at = min(at, now)
    conversation = _conversation_locked(conversation_id)
    if conversation is None or conversation.status not in Conversation.ACTIVE_STATUSES:
        return
    clocks = _clocks_locked(conversation_id)
    _follow_status(conversation, clocks, at)
    starts = {}
    resolution = clocks.get(Target.RESOLUTION)
    if resolution is None:
        starts[Target.RESOLUTION] = min(conversation.created_at, at)
    elif not _active(resolution):
        starts[Target.RESOLUTION] = at
    if response := _response_start(clocks, at):
        starts[response] = at
    _clocks_start(conversation, clocks, starts)


@transaction.atomic
def sla_on_agent_reply(*, message_id: int, sent_at: datetime, now: datetime | None = None) -> None:
    """Stop the running response clock with an agent's reply that the platform accepted at
    `sent_at`. Bot messages, failed or unsent replies and replies older than the customer
    message that started the clock do not count (internal notes are not messages)."""
    now = now or timezone.now()
    sent_at = min(sent_at, now)
    message = Message.objects.filter(
        pk=message_id,
        direction=Message.Direction.OUTBOUND,
        sender_type=Message.SenderType.AGENT,
        delivery_status__in=_SENT_STATUSES,
    ).first()
    if message is None:
        return
    conversation = _conversation_locked(message.conversation_id)
    clocks = _clocks_locked(message.conversation_id)
    for target in _RESPONSE_TARGETS:
        clock = clocks.get(target)
        if _active(clock) and sent_at >= clock.started_at:
            _stop(clock, at=sent_at, priority=conversation.priority)


@transaction.atomic
def sla_on_status_change(*, conversation_id: int, now: datetime | None = None) -> None:
    """Bring the clocks in line with the conversation's status as it now is: pending pauses
    them, open resumes them, resolved or closed stops them (each with its outcome), and a
    reopened conversation starts a new resolution cycle."""
    now = now or timezone.now()
    conversation = _conversation_locked(conversation_id)
    if conversation is None:
        return
    clocks = _clocks_locked(conversation_id)
    _follow_status(conversation, clocks, now)
    resolution = clocks.get(Target.RESOLUTION)
    if (
        conversation.status in Conversation.ACTIVE_STATUSES
        and resolution is not None
        and not _active(resolution)
    ):
        _clocks_start(conversation, clocks, {Target.RESOLUTION: now})


@transaction.atomic
def sla_on_priority_change(*, conversation_id: int, now: datetime | None = None) -> None:
    """Re-apply targets after the conversation's priority changed: match its policy again
    and give each active clock the new budget from `now`, keeping the time already used.
    A target the new policy does not set stops being tracked."""
    now = now or timezone.now()
    conversation = _conversation_locked(conversation_id)
    if conversation is None:
        return
    active = [clock for clock in _clocks_locked(conversation_id).values() if _active(clock)]
    if not active:
        return
    policy = _policy_for(conversation)
    budgets = _budgets(policy, conversation.priority) if policy is not None else {}
    for clock in active:
        if clock.target in budgets:
            _reapply(clock, policy=policy, budget=budgets[clock.target], at=now)
        else:  # the new policy does not track this target: no outcome to keep
            _end(clock, at=now, outcome=Clock.Outcome.CANCELLED)
