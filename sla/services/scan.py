"""The breach scan: record each clock's warning and breach once, as their instants pass.

It reads only clocks whose `next_check_at` has passed, through the partial index
`clock_due`, so its cost follows the number of clocks due, not the number of conversations.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.metrics import SLA_BREACHES
from helpdesk.transactions import enqueue_on_commit, on_commit_call
from inbox.broadcast import broadcast_on_commit
from sla import clockmath, tasks
from sla.models import Clock, ClockEvent


def sla_clocks_scan(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Record every warning and breach due by `now` and return how many were recorded.

    Works through the due clocks in batches, each in its own transaction, until a batch comes
    back short. Two scans may run at once (a slow one overlapping the next beat): each takes
    clocks the other has not locked, and the claims below settle any clock both read.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.SLA_SCAN_BATCH_SIZE
    recorded = 0
    while True:
        taken, batch_recorded = _due_batch_flag(now=now, limit=batch_size)
        recorded += batch_recorded
        if taken < batch_size:
            return recorded


# Durable: the batch's row locks must end with this transaction, not with a caller's.
@transaction.atomic(durable=True)
def _due_batch_flag(*, now: datetime, limit: int) -> tuple[int, int]:
    """Flag up to `limit` due clocks; return how many were taken and how many events recorded."""
    clocks = list(
        # SKIP LOCKED: a clock being changed right now, or taken by another scan, waits for
        # the next scan instead of holding this one up.
        Clock.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(next_check_at__lte=now)
        .annotate(channel_id=F("conversation__channel_id"))
        .order_by("next_check_at")[:limit]
    )
    claimed = [event for clock in clocks for event in clock_claim(clock, now=now)]
    # The unique (clock, cycle, kind) constraint backs the claims up: an event recorded
    # already is left as it was, and only the rows this scan wrote are read back.
    ClockEvent.objects.bulk_create(claimed, ignore_conflicts=True)
    recorded = ClockEvent.objects.filter(
        clock_id__in={event.clock_id for event in claimed}, recorded_at=now
    )
    channels = {clock.pk: clock.channel_id for clock in clocks}
    breaches = []
    for event in recorded:
        broadcast_on_commit(
            event_type=f"sla.{event.kind}",
            channel_id=channels[event.clock_id],
            conversation_id=event.conversation_id,
            clock_id=event.clock_id,
            target=event.target,
        )
        if event.kind == ClockEvent.Kind.BREACHED:
            breaches.append(event.pk)
    if breaches:
        on_commit_call(SLA_BREACHES.inc, len(breaches))
        enqueue_on_commit(tasks.sla_breaches_escalate_task, event_ids=breaches)
    return len(clocks), len(recorded)


def clock_claim(clock: Clock, *, now: datetime) -> list[ClockEvent]:
    """Claim the clock's warning and breach due by `now` and move its next check on; return
    the events to record (unsaved), or none if another scan claimed them first."""
    due = {}
    if clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= now:
        due[ClockEvent.Kind.WARNING] = ("warned_at", clock.warn_at)
    if clock.breached_at is None and clock.deadline is not None and clock.deadline <= now:
        due[ClockEvent.Kind.BREACHED] = ("breached_at", clock.deadline)
    flags = {flag: now for flag, _ in due.values()}
    next_check_at = clockmath.next_check(
        warn_at=clock.warn_at,
        deadline=clock.deadline,
        warned=clock.warned_at is not None or "warned_at" in flags,
        breached=clock.breached_at is not None or "breached_at" in flags,
    )
    # The conditional update is the claim: of two scans that read the clock as due, only the
    # one whose update still finds the flags empty records the events.
    won = Clock.objects.filter(
        pk=clock.pk, cycle=clock.cycle, **{f"{flag}__isnull": True for flag in flags}
    ).update(next_check_at=next_check_at, **flags)
    if not won:
        return []
    return [
        ClockEvent(
            clock_id=clock.pk,
            cycle=clock.cycle,
            kind=kind,
            conversation_id=clock.conversation_id,
            target=clock.target,
            policy_id=clock.policy_id,
            due_at=due_at,
            recorded_at=now,
        )
        for kind, (_, due_at) in due.items()
    ]
