"""Escalation: what a breached policy does to the conversation, once per breach."""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk.transactions import enqueue_on_commit
from inbox.broadcast import broadcast_on_commit
from inbox.models import Conversation
from inbox.services import conversation_priority_set
from sla import tasks
from sla.models import ClockEvent, EscalationAction

_PRIORITY_RANK = {priority: rank for rank, priority in enumerate(Conversation.Priority.values)}

Result = dict[str, str]


def _raise_priority(conversation: Conversation, *, priority: str, now: datetime) -> Result:
    if _PRIORITY_RANK[conversation.priority] >= _PRIORITY_RANK[priority]:
        return {"result": "unchanged"}  # escalation only ever raises
    conversation_priority_set(conversation_id=conversation.pk, priority=priority, now=now)
    conversation.priority = priority
    return {"result": "done"}


def _reassign_team(conversation: Conversation, *, team_id: int) -> Result:
    if not settings.SLA_TEAM_REASSIGN_HOOK:
        return {
            "result": "skipped",
            "reason": "SLA_TEAM_REASSIGN_HOOK is not set",
        }
    enqueue_on_commit(tasks.sla_team_reassign_task, conversation_id=conversation.pk, team_id=team_id)
    return {"result": "requested"}


def _run(action: EscalationAction, conversation: Conversation, now: datetime) -> Result:
    match action.action:
        case EscalationAction.Action.RAISE_PRIORITY:
            return _raise_priority(conversation, priority=action.priority, now=now)
        case EscalationAction.Action.ADD_TAG:
            conversation.tags.add(action.tag_id)
        case EscalationAction.Action.REASSIGN_TEAM:
            return _reassign_team(conversation, team_id=action.team_id)
        case EscalationAction.Action.NOTIFY_TEAM_LEAD:
            broadcast_on_commit(
                event_type="sla.escalated",
                channel_id=conversation.channel_id,
                conversation_id=conversation.pk,
                team_id=action.team_id,
            )
    return {"result": "done"}


# Actions that change the conversation the console shows.
_CHANGING = {EscalationAction.Action.RAISE_PRIORITY, EscalationAction.Action.ADD_TAG}


@transaction.atomic
def sla_breach_escalate(*, event_id: int, now: datetime | None = None) -> list[Result]:
    """Run the escalation actions of the breached policy that apply to the breached target,
    once per breach, and keep each action's result on the event."""
    now = now or timezone.now()
    event = ClockEvent.objects.filter(pk=event_id, kind=ClockEvent.Kind.BREACHED).first()
    if event is None:
        return []
    # The conversation first, as every SLA writer locks it before its clocks.
    conversation = Conversation.objects.select_for_update(no_key=True).get(pk=event.conversation_id)
    # The conditional update is the claim: a task delivered twice escalates once.
    claimed = ClockEvent.objects.filter(pk=event_id, escalated_at__isnull=True)
    if not claimed.update(escalated_at=now):
        return []
    actions = EscalationAction.objects.filter(
        Q(on_target="") | Q(on_target=event.target), policy_id=event.policy_id
    )
    results = [{"action": action.action, **_run(action, conversation, now)} for action in actions]
    ClockEvent.objects.filter(pk=event_id).update(escalations=results)
    if any(result["action"] in _CHANGING and result["result"] == "done" for result in results):
        broadcast_on_commit(
            event_type="conversation.changed",
            channel_id=conversation.channel_id,
            conversation_id=conversation.pk,
        )
    return results


def sla_escalations_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Escalate breaches whose escalation task was lost (broker down or restarted, worker
    killed) and return how many were run. A breach recorded less than
    SLA_ESCALATION_SWEEP_AFTER ago is left to its task, which may still be on its way."""
    now = now or timezone.now()
    stuck = list(
        ClockEvent.objects.filter(
            kind=ClockEvent.Kind.BREACHED,
            escalated_at__isnull=True,
            recorded_at__lte=now - settings.SLA_ESCALATION_SWEEP_AFTER,
        )
        .order_by("recorded_at")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in stuck:  # each in its own transaction; the claim makes a late task a no-op
        sla_breach_escalate(event_id=event_id, now=now)
    return len(stuck)
