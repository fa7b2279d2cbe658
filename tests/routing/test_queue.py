from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation
from routing.models import Assignment
from routing.presence import Presence
from routing.selectors import team_queue, team_queue_positions
from routing.services import (
    agent_heartbeat,
    agent_queues_drain_on_commit,
    conversation_route,
    queue_drain,
    queues_sweep,
    team_hand_back_offline,
)
from routing.services.queue import unseen_conversations_route
from tests import factories

pytestmark = pytest.mark.django_db


def queued(channel, now, age=timedelta(0), **fields) -> Conversation:
    """A conversation `age` old, routed while nobody could take it."""
    conversation = factories.conversation(channel=channel, now=now - age, **fields)
    assert conversation_route(conversation_id=conversation.pk, now=now) is None
    return conversation


def test_queue_goes_by_priority_then_age(channel, team, now):
    old_low = queued(channel, now, priority="low", age=timedelta(hours=3))
    new_urgent = queued(channel, now, priority="urgent")
    old_high = queued(channel, now, priority="high", age=timedelta(hours=2))
    new_high = queued(channel, now, priority="high", age=timedelta(hours=1))
    old_medium = queued(channel, now, priority="medium", age=timedelta(hours=5))

    order = list(team_queue_positions(team_id=team.pk).values_list("pk", "position"))

    expected = [new_urgent, old_high, new_high, old_medium, old_low]
    assert order == [(c.pk, position) for position, c in enumerate(expected, start=1)]


def test_queue_leaves_out_assigned_resolved_and_other_teams_conversations(channel, team, now):
    waiting = queued(channel, now)
    resolved = queued(channel, now)
    Conversation.objects.filter(pk=resolved.pk).update(status=Conversation.Status.RESOLVED)
    factories.conversation(channel=channel, team=team, assignee=factories.user())
    factories.conversation(channel=channel, team=factories.team())

    assert list(team_queue(team_id=team.pk)) == [waiting]


def test_drain_assigns_the_next_conversations_while_members_have_room(channel, team, now):
    conversations = [queued(channel, now, age=timedelta(minutes=i)) for i in range(3)]
    agent = factories.agent(capacity=2)
    team.members.add(agent)

    assignments = queue_drain(team_id=team.pk, now=now)

    oldest_two = {conversations[2].pk, conversations[1].pk}
    assert {a.conversation_id for a in assignments} == oldest_two
    assert {a.agent_id for a in assignments} == {agent.pk}
    assert list(team_queue(team_id=team.pk)) == [conversations[0]]


def test_drain_passes_over_conversations_no_member_can_take(channel, team, now):
    german = factories.skill(name="german")
    factories.rule(keywords="hallo", required_skill=german)
    first = factories.conversation(channel=channel, now=now - timedelta(hours=1))
    factories.message(conversation=first, content="Hallo!")
    conversation_route(conversation_id=first.pk, now=now)
    second = queued(channel, now)
    agent = factories.agent()
    team.members.add(agent)

    assignments = queue_drain(team_id=team.pk, now=now)

    assert [a.conversation_id for a in assignments] == [second.pk]


def test_drain_credits_the_rule_that_required_a_skill(channel, team, now):
    billing = factories.skill()
    rule = factories.rule(required_skill=billing)
    conversation = queued(channel, now)
    team.members.add(factories.agent(skills={billing: 1}))

    (assignment,) = queue_drain(team_id=team.pk, now=now)

    assert (assignment.conversation_id, assignment.by, assignment.rule_id) == (
        conversation.pk,
        Assignment.By.RULE,
        rule.pk,
    )


def test_drain_of_a_team_without_room_assigns_nothing(channel, team, now):
    queued(channel, now)
    team.members.add(factories.agent(capacity=0))

    assert queue_drain(team_id=team.pk, now=now) == []


def test_agent_coming_online_gets_queued_conversations_at_once(
    channel, team, now, django_capture_on_commit_callbacks
):
    conversation = queued(channel, now)
    agent = factories.agent(presence=Presence.OFFLINE, last_heartbeat_at=None)
    team.members.add(agent)

    with django_capture_on_commit_callbacks(execute=True):
        agent_heartbeat(agent_id=agent.pk, status=Presence.ONLINE, now=now)

    conversation.refresh_from_db()
    assert conversation.assignee_id == agent.pk


def test_agent_freeing_capacity_gets_queued_conversations_at_once(
    channel, team, now, django_capture_on_commit_callbacks
):
    agent = factories.agent(capacity=1)
    team.members.add(agent)
    held = factories.conversation(channel=channel)
    conversation_route(conversation_id=held.pk, now=now)
    waiting = queued(channel, now)

    with django_capture_on_commit_callbacks(execute=True):
        Conversation.objects.filter(pk=held.pk).update(status=Conversation.Status.RESOLVED)
        agent_queues_drain_on_commit(agent_id=agent.pk)

    waiting.refresh_from_db()
    assert waiting.assignee_id == agent.pk


def test_agent_added_to_the_team_in_the_admin_gets_queued_conversations_at_once(
    channel, team, now, client, django_capture_on_commit_callbacks
):
    conversation = queued(channel, now)
    agent = factories.agent()
    client.force_login(factories.user(is_staff=True, is_superuser=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/routing/team/{team.pk}/change/",
            {
                "name": team.name,
                "strategy": team.strategy,
                "channels": [channel.pk],
                "members": [agent.pk],
            },
        )

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.assignee_id == agent.pk


def test_offline_agents_conversations_go_back_to_the_queue_when_the_team_asks(channel, now):
    team = factories.team(channels=[channel], hand_back_offline=True)
    gone = factories.agent(last_heartbeat_at=now - timedelta(minutes=5))
    away = factories.agent(presence=Presence.AWAY)
    team.members.add(gone, away)
    handed_back = factories.conversation(channel=channel, team=team, assignee=gone.user)
    kept = factories.conversation(channel=channel, team=team, assignee=away.user)

    assert team_hand_back_offline(team_id=team.pk, now=now) == 1

    handed_back.refresh_from_db()
    kept.refresh_from_db()
    assert handed_back.assignee_id is None
    assert kept.assignee_id == away.pk


def test_sweep_hands_back_and_reassigns_only_for_teams_that_ask(
    channel, now, django_capture_on_commit_callbacks
):
    asking = factories.team(channels=[channel], hand_back_offline=True)
    keeping = factories.team(hand_back_offline=False)
    gone = factories.agent(last_heartbeat_at=now - timedelta(minutes=5))
    online = factories.agent()
    asking.members.add(gone, online)
    keeping.members.add(gone)
    moved = factories.conversation(channel=channel, team=asking, assignee=gone.user)
    stays = factories.conversation(channel=channel, team=keeping, assignee=gone.user)

    with django_capture_on_commit_callbacks(execute=True):
        queues_sweep(now=now)

    moved.refresh_from_db()
    stays.refresh_from_db()
    assert moved.assignee_id == online.pk
    assert stays.assignee_id == gone.pk


def test_sweep_drains_queues_after_room_freed_outside_routing(
    channel, team, now, django_capture_on_commit_callbacks
):
    agent = factories.agent(capacity=1)
    team.members.add(agent)
    held = factories.conversation(channel=channel)
    conversation_route(conversation_id=held.pk, now=now)
    waiting = queued(channel, now)
    Conversation.objects.filter(pk=held.pk).update(status=Conversation.Status.CLOSED)

    with django_capture_on_commit_callbacks(execute=True):
        queues_sweep(now=now)

    waiting.refresh_from_db()
    assert waiting.assignee_id == agent.pk


def test_sweep_routes_a_conversation_whose_routing_task_was_lost(channel):
    """Ingest's routing task never ran (the broker was down): the periodic sweep routes it."""
    agent = factories.agent()
    factories.team(channels=[channel], members=[agent])
    now = timezone.now()
    lost = factories.conversation(channel=channel, now=now - timedelta(minutes=5))
    fresh = factories.conversation(channel=channel, now=now)

    queues_sweep(now=now)

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.assignee_id == agent.pk
    assert fresh.assignee_id is None  # still its own routing task's to do


def test_sweep_tries_a_conversation_no_team_serves_once(channel):
    """Routing records that it saw it, so the sweep does not route it every 15 seconds."""
    now = timezone.now()
    conversation = factories.conversation(channel=channel, now=now - timedelta(minutes=5))
    assert conversation_route(conversation_id=conversation.pk, now=now) is None  # no team

    assert unseen_conversations_route(now=now) == 0
