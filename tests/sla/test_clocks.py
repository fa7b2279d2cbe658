from datetime import datetime, time, timedelta

import pytest

from inbox.models import Conversation, Message
from sla.models import Clock, ClockOutcome, Target
from sla.services.clocks import (
    sla_on_agent_reply,
    sla_on_customer_message,
    sla_on_priority_change,
    sla_on_status_change,
)
from tests import factories
from tests.sla.conftest import ROME, T0

MINUTE = timedelta(minutes=1)


def clock(conversation: Conversation, target: str) -> Clock:
    return Clock.objects.get(conversation=conversation, target=target)


def customer_writes(conversation: Conversation, at: datetime) -> None:
    """What ingest does for a customer message: a pending conversation is open again."""
    Conversation.objects.filter(pk=conversation.pk, status=Conversation.Status.PENDING).update(
        status=Conversation.Status.OPEN
    )
    sla_on_customer_message(conversation_id=conversation.pk, at=at, now=at)


def agent_replies(conversation: Conversation, at: datetime, **fields) -> Message:
    fields = {
        "direction": Message.Direction.OUTBOUND,
        "sender_type": Message.SenderType.AGENT,
        "delivery_status": Message.DeliveryStatus.SENT,
        **fields,
    }
    reply = factories.message(conversation=conversation, now=at, **fields)
    sla_on_agent_reply(message_id=reply.pk, sent_at=at, now=at)
    return reply


def status_becomes(conversation: Conversation, status: str, at: datetime) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(status=status)
    sla_on_status_change(conversation_id=conversation.pk, now=at)


def test_the_first_customer_message_starts_first_response_and_resolution(policy, conversation):
    customer_writes(conversation, T0)

    first, resolution = (
        clock(conversation, Target.FIRST_RESPONSE),
        clock(conversation, Target.RESOLUTION),
    )
    assert (first.state, first.deadline) == (Clock.State.RUNNING, T0 + 60 * MINUTE)
    assert (resolution.started_at, resolution.deadline) == (
        conversation.created_at,
        T0 + 480 * MINUTE,
    )
    assert not Clock.objects.filter(conversation=conversation, target=Target.NEXT_RESPONSE).exists()


def test_deadlines_count_business_hours_of_the_policy_calendar_across_a_dst_weekend(conversation):
    calendar = factories.business_calendar()  # Monday to Friday 09:00–17:00, Europe/Rome
    factories.sla_policy(is_default=True, business_hours=True, calendar=calendar)
    friday_4_30pm = datetime(2026, 3, 27, 16, 30, tzinfo=ROME)

    customer_writes(conversation, friday_4_30pm)

    # 30 minutes on Friday, 30 on Monday, after the clocks went forward on Sunday.
    assert clock(conversation, Target.FIRST_RESPONSE).deadline == datetime(
        2026, 3, 30, 9, 30, tzinfo=ROME
    )


def test_an_agent_reply_in_time_meets_the_first_response_and_keeps_the_outcome(
    policy, conversation
):
    customer_writes(conversation, T0)
    agent_replies(conversation, T0 + 20 * MINUTE)

    first = clock(conversation, Target.FIRST_RESPONSE)
    assert (first.state, first.outcome, first.next_check_at) == (
        Clock.State.STOPPED,
        Clock.Outcome.MET,
        None,
    )
    outcome = ClockOutcome.objects.get(clock=first)
    assert (
        outcome.breached,
        outcome.business_seconds,
        outcome.wall_seconds,
        outcome.target_seconds,
    ) == (
        False,
        1200,
        1200,
        3600,
    )


def test_outcomes_keep_business_and_wall_clock_minutes_apart(conversation):
    calendar = factories.business_calendar()
    factories.sla_policy(is_default=True, business_hours=True, calendar=calendar)
    friday_4_30pm = datetime(2026, 6, 5, 16, 30, tzinfo=ROME)
    customer_writes(conversation, friday_4_30pm)
    agent_replies(conversation, datetime(2026, 6, 8, 9, 15, tzinfo=ROME))  # 30 + 15 minutes

    outcome = ClockOutcome.objects.get(clock=clock(conversation, Target.FIRST_RESPONSE))
    assert outcome.business_seconds == 45 * 60
    assert (
        outcome.wall_seconds
        == (datetime(2026, 6, 8, 9, 15, tzinfo=ROME) - friday_4_30pm).total_seconds()
    )
    assert outcome.breached is False


def test_a_late_reply_breaches(policy, conversation):
    customer_writes(conversation, T0)
    agent_replies(conversation, T0 + 61 * MINUTE)

    assert clock(conversation, Target.FIRST_RESPONSE).outcome == Clock.Outcome.BREACHED
    assert ClockOutcome.objects.get().breached is True


@pytest.mark.parametrize(
    "reply",
    [
        {"sender_type": Message.SenderType.BOT},
        {"delivery_status": Message.DeliveryStatus.PENDING},
        {"delivery_status": Message.DeliveryStatus.FAILED},
        {"direction": Message.Direction.INBOUND, "sender_type": Message.SenderType.CUSTOMER},
    ],
    ids=["bot", "not-sent", "failed", "customer"],
)
def test_only_an_agent_reply_actually_sent_stops_the_clock(policy, conversation, reply):
    customer_writes(conversation, T0)
    agent_replies(conversation, T0 + MINUTE, **reply)

    assert clock(conversation, Target.FIRST_RESPONSE).state == Clock.State.RUNNING


def test_a_customer_message_after_a_reply_starts_the_next_response_once(policy, conversation):
    customer_writes(conversation, T0)
    agent_replies(conversation, T0 + 5 * MINUTE)
    customer_writes(conversation, T0 + 10 * MINUTE)
    customer_writes(conversation, T0 + 12 * MINUTE)  # still unanswered: the clock keeps running

    following = clock(conversation, Target.NEXT_RESPONSE)
    assert (following.cycle, following.started_at, following.deadline) == (
        1,
        T0 + 10 * MINUTE,
        T0 + 40 * MINUTE,
    )
    agent_replies(conversation, T0 + 15 * MINUTE)
    customer_writes(conversation, T0 + 20 * MINUTE)
    assert clock(conversation, Target.NEXT_RESPONSE).cycle == 2
    assert ClockOutcome.objects.filter(target=Target.NEXT_RESPONSE).count() == 1


def test_a_customer_message_older_than_the_last_reply_starts_nothing(policy, conversation):
    customer_writes(conversation, T0)
    agent_replies(conversation, T0 + 5 * MINUTE)
    customer_writes(conversation, T0 + 4 * MINUTE)  # delivered late

    assert not Clock.objects.filter(target=Target.NEXT_RESPONSE).exists()


def test_pending_pauses_every_clock_and_the_customer_reply_resumes_them(policy, conversation):
    customer_writes(conversation, T0)
    status_becomes(conversation, Conversation.Status.PENDING, T0 + 10 * MINUTE)

    paused = clock(conversation, Target.FIRST_RESPONSE)
    assert (paused.state, paused.consumed, paused.deadline, paused.next_check_at) == (
        Clock.State.PAUSED,
        10 * MINUTE,
        None,
        None,
    )
    assert clock(conversation, Target.RESOLUTION).state == Clock.State.PAUSED

    customer_writes(conversation, T0 + 2 * 60 * MINUTE)

    # 50 minutes were left when the clock paused; they run from the customer's reply.
    assert clock(conversation, Target.FIRST_RESPONSE).deadline == T0 + 170 * MINUTE
    assert clock(conversation, Target.RESOLUTION).deadline == T0 + (480 + 110) * MINUTE


def test_an_agent_reopening_a_pending_conversation_resumes_its_clocks(policy, conversation):
    customer_writes(conversation, T0)
    status_becomes(conversation, Conversation.Status.PENDING, T0 + 10 * MINUTE)
    status_becomes(conversation, Conversation.Status.OPEN, T0 + 30 * MINUTE)

    assert clock(conversation, Target.FIRST_RESPONSE).deadline == T0 + 80 * MINUTE


def test_a_clock_past_its_deadline_when_paused_stays_due_for_the_scan(policy, conversation):
    customer_writes(conversation, T0)
    status_becomes(conversation, Conversation.Status.PENDING, T0 + 70 * MINUTE)

    paused = clock(conversation, Target.FIRST_RESPONSE)
    assert paused.deadline == T0 + 60 * MINUTE
    assert paused.next_check_at == T0 + 60 * MINUTE


def test_resolving_stops_every_clock_and_reopening_starts_a_new_resolution_cycle(
    policy, conversation
):
    customer_writes(conversation, T0)
    status_becomes(conversation, Conversation.Status.RESOLVED, T0 + 30 * MINUTE)

    assert set(Clock.objects.values_list("state", flat=True)) == {Clock.State.STOPPED}
    assert ClockOutcome.objects.filter(breached=False).count() == 2

    status_becomes(conversation, Conversation.Status.OPEN, T0 + 60 * MINUTE)

    resolution = clock(conversation, Target.RESOLUTION)
    assert (resolution.cycle, resolution.state, resolution.started_at) == (
        2,
        Clock.State.RUNNING,
        T0 + 60 * MINUTE,
    )
    assert resolution.deadline == T0 + (60 + 480) * MINUTE
    assert clock(conversation, Target.FIRST_RESPONSE).state == Clock.State.STOPPED


def test_a_customer_message_reopening_a_conversation_restarts_resolution_and_the_next_response(
    policy, conversation
):
    customer_writes(conversation, T0)
    agent_replies(conversation, T0 + 5 * MINUTE)
    status_becomes(conversation, Conversation.Status.RESOLVED, T0 + 10 * MINUTE)
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.OPEN
    )  # ingest reopens

    customer_writes(conversation, T0 + 60 * MINUTE)

    assert clock(conversation, Target.RESOLUTION).cycle == 2
    assert clock(conversation, Target.NEXT_RESPONSE).started_at == T0 + 60 * MINUTE


def test_a_message_to_a_resolved_conversation_changes_nothing(policy, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED)

    sla_on_customer_message(conversation_id=conversation.pk, at=T0, now=T0)

    assert not Clock.objects.exists()


def test_a_priority_change_reapplies_targets_keeping_the_time_used(conversation):
    factories.sla_policy(
        is_default=True,
        targets={
            Conversation.Priority.MEDIUM: (60, 30, 480),
            Conversation.Priority.URGENT: (15, 10, None),
        },
    )
    customer_writes(conversation, T0)
    Conversation.objects.filter(pk=conversation.pk).update(priority=Conversation.Priority.URGENT)

    sla_on_priority_change(conversation_id=conversation.pk, now=T0 + 5 * MINUTE)

    first = clock(conversation, Target.FIRST_RESPONSE)
    assert (first.budget, first.consumed, first.deadline) == (
        15 * MINUTE,
        5 * MINUTE,
        T0 + 15 * MINUTE,
    )
    resolution = clock(conversation, Target.RESOLUTION)
    assert (resolution.state, resolution.outcome) == (Clock.State.STOPPED, Clock.Outcome.CANCELLED)


def test_a_priority_change_can_switch_to_the_policy_matching_the_new_priority(policy, conversation):
    urgent = factories.sla_policy(
        priority=Conversation.Priority.URGENT, targets={Conversation.Priority.URGENT: (5, 5, 60)}
    )
    customer_writes(conversation, T0)
    Conversation.objects.filter(pk=conversation.pk).update(priority=Conversation.Priority.URGENT)

    sla_on_priority_change(conversation_id=conversation.pk, now=T0)

    assert clock(conversation, Target.FIRST_RESPONSE).policy == urgent
    assert clock(conversation, Target.FIRST_RESPONSE).deadline == T0 + 5 * MINUTE


def test_no_policy_means_no_clocks(conversation):
    factories.sla_policy(platform="x")  # matches nothing here, and there is no default

    customer_writes(conversation, T0)

    assert not Clock.objects.exists()


def test_the_first_matching_policy_sets_the_targets(policy, conversation):
    vip = factories.tag(name="vip")
    conversation.customer.tags.add(vip)
    factories.sla_policy(
        customer_tag=vip, position=1, targets={Conversation.Priority.MEDIUM: (10, 10, 60)}
    )

    customer_writes(conversation, T0)

    assert clock(conversation, Target.FIRST_RESPONSE).deadline == T0 + 10 * MINUTE


def test_a_conversation_created_pending_starts_its_clocks_paused(policy, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.PENDING)

    sla_on_customer_message(conversation_id=conversation.pk, at=T0, now=T0)

    assert set(Clock.objects.values_list("state", flat=True)) == {Clock.State.PAUSED}


def test_a_wall_clock_policy_ignores_the_calendar_night(conversation):
    calendar = factories.business_calendar(schedule={0: [(time(9), time(10))]})
    factories.sla_policy(is_default=True, business_hours=False, calendar=calendar)
    night = datetime(2026, 6, 8, 23, tzinfo=ROME)

    customer_writes(conversation, night)

    assert clock(conversation, Target.FIRST_RESPONSE).deadline == night + 60 * MINUTE
