"""Ingest routes each conversation it opens in its own transaction, so it appears assigned; a
reopened one is left to the routing task after commit; a routing failure never costs ingest
its message."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation, Message
from inbox.services import message_ingest
from integrations.platforms.base import Sender
from routing.models import Assignment, ConversationRouting
from routing.services import conversation_route
from routing.services import route as route_module
from sla.models import Clock as SlaClock
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(channel):
    return factories.team(channels=[channel])


@pytest.fixture
def serving_agent(team):
    agent = factories.agent()
    team.members.add(agent)
    return agent


def ingest(channel, *, customer="c-1", **overrides):
    event = factories.inbound_event(
        **{"timestamp": timezone.now(), "sender": Sender(external_id=customer), **overrides}
    )
    return message_ingest(channel=channel, event=event)


def test_a_new_conversation_is_already_assigned_when_ingest_returns(channel, serving_agent):
    message = ingest(channel)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert (conversation.assignee_id, conversation.team_id) == (
        serving_agent.pk,
        serving_agent.teams.get().pk,
    )
    assignment = Assignment.objects.get(conversation=conversation)
    assert (assignment.agent_id, assignment.by) == (serving_agent.pk, Assignment.By.STRATEGY)


def test_a_follow_up_message_does_not_reassign(
    channel, serving_agent, django_capture_on_commit_callbacks
):
    first = ingest(channel)
    other = factories.user()
    Conversation.objects.filter(pk=first.conversation_id).update(assignee=other)
    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, timestamp=timezone.now() + timedelta(minutes=1))
    assert Conversation.objects.get(pk=first.conversation_id).assignee == other


def test_a_reopened_conversation_is_routed_by_the_task_after_commit(
    channel, team, serving_agent, django_capture_on_commit_callbacks
):
    first = ingest(channel)
    Conversation.objects.filter(pk=first.conversation_id).update(
        status=Conversation.Status.RESOLVED, resolved_at=timezone.now()
    )
    serving_agent.last_heartbeat_at -= timedelta(hours=1)  # offline since
    serving_agent.save()
    online = factories.agent()
    team.members.add(online)

    with django_capture_on_commit_callbacks() as callbacks:
        ingest(channel, timestamp=timezone.now() + timedelta(minutes=1))
    conversation = Conversation.objects.get(pk=first.conversation_id)
    assert (conversation.status, conversation.assignee_id) == ("open", serving_agent.pk)
    for callback in callbacks:
        callback()

    conversation.refresh_from_db()
    assert conversation.assignee_id == online.pk


def test_ingest_applies_the_rules_to_the_first_message(channel, team):
    billing = factories.skill(name="billing")
    novice, expert = factories.agent(skills={billing: 1}), factories.agent(skills={billing: 4})
    team.members.add(novice, expert)
    refunds = factories.tag(name="refunds")
    rule = factories.rule(
        keywords="refund",
        required_skill=billing,
        required_level=3,
        set_priority="high",
        add_tags=[refunds],
    )

    message = ingest(channel, text="I want a REFUND now")

    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.assignee_id == expert.pk
    assert conversation.priority == "high"
    assert list(conversation.tags.all()) == [refunds]
    assert Assignment.objects.get(conversation=conversation).rule_id == rule.pk
    assert ConversationRouting.objects.get(conversation=conversation).rule_id == rule.pk


def test_a_rule_saved_meanwhile_applies_to_the_next_conversation(channel, serving_agent):
    ingest(channel, customer="before")
    factories.rule(set_priority="urgent")

    message = ingest(channel, customer="after")

    assert Conversation.objects.get(pk=message.conversation_id).priority == "urgent"


def test_assignment_and_message_reach_consoles_in_one_trip_after_commit(
    channel, serving_agent, django_capture_on_commit_callbacks, broadcast_trips
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ingest(channel)

    assert len(callbacks) == 1
    assert [[event["type"] for event in trip] for trip in broadcast_trips] == [
        ["conversation.assigned", "message.created"]
    ]


def test_a_routing_failure_keeps_the_message_and_leaves_routing_to_the_task(
    channel, serving_agent, monkeypatch, django_capture_on_commit_callbacks, caplog, broadcast_trips
):
    team_route = route_module.team_route

    def broken(**kwargs):
        team_route(**kwargs)  # writes an assignment and registers its broadcast, then fails
        raise RuntimeError("routing bug")

    monkeypatch.setattr(route_module, "team_route", broken)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks() as callbacks:
        message = ingest(channel)

    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert Message.objects.filter(pk=message.pk).exists()
    assert conversation.assignee_id is None  # the failed routing was rolled back
    assert not Assignment.objects.exists()
    assert "Routing new conversation" in caplog.text

    monkeypatch.undo()
    for callback in callbacks:
        callback()  # the routing task, enqueued on commit, runs once the bug is gone
    assert [event["type"] for event in broadcast_trips[0]] == ["message.created"]  # no assignment
    conversation.refresh_from_db()
    assert conversation.assignee_id == serving_agent.pk


def test_a_conversation_routed_by_strategy_alone_keeps_that_decision(channel, team, serving_agent):
    """No rule applied, so nothing is stored; routed again later (say, reopened), it is not
    judged by rules added since."""
    conversation = Conversation.objects.get(pk=ingest(channel, text="refund please").conversation_id)
    assert not ConversationRouting.objects.filter(conversation=conversation).exists()
    factories.rule(keywords="refund", set_priority="urgent", team=factories.team())
    Conversation.objects.filter(pk=conversation.pk).update(assignee=None)

    assignment = conversation_route(conversation_id=conversation.pk)

    conversation.refresh_from_db()
    assert (conversation.priority, conversation.team_id) == ("medium", team.pk)
    assert (assignment.agent_id, assignment.rule_id) == (serving_agent.pk, None)


def test_a_priority_set_by_a_rule_gives_the_sla_clocks_its_targets(channel, serving_agent):
    factories.sla_policy(
        is_default=True, targets={"medium": (60, 30, 480), "high": (15, 10, 120)}
    )
    factories.rule(keywords="outage", set_priority="high")

    message = ingest(channel, text="Total outage here")

    clocks = SlaClock.objects.filter(conversation_id=message.conversation_id)
    budgets = dict(clocks.values_list("target", "budget"))
    assert budgets["first_response"] == timedelta(minutes=15)
    assert budgets["resolution"] == timedelta(minutes=120)
