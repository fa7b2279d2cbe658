from datetime import timedelta

import pytest

from inbox.models import Conversation
from routing.models import Assignment, Team
from routing.presence import Presence
from routing.services import conversation_route
from routing.tasks import conversation_route_task
from tests import factories

pytestmark = pytest.mark.django_db


def route(conversation, now):
    return conversation_route(conversation_id=conversation.pk, now=now)


def test_new_conversation_goes_to_an_online_member_and_is_recorded(channel, team, now):
    agent = factories.agent()
    team.members.add(agent)
    conversation = factories.conversation(channel=channel)

    assignment = route(conversation, now)

    conversation.refresh_from_db()
    assert conversation.assignee_id == agent.pk
    assert conversation.team_id == team.pk
    assert (assignment.agent_id, assignment.team_id, assignment.by, assignment.strategy) == (
        agent.pk,
        team.pk,
        Assignment.By.STRATEGY,
        Team.Strategy.ROUND_ROBIN,
    )
    assert assignment.assigned_at == now


def test_assignment_is_announced_to_agent_and_team_after_commit(
    channel, team, now, group_listener, django_capture_on_commit_callbacks
):
    agent = factories.agent()
    team.members.add(agent)
    conversation = factories.conversation(channel=channel)
    agent_events = group_listener(f"agent.{agent.pk}")
    team_events = group_listener(f"team.{team.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        route(conversation, now)

    expected = {
        "type": "conversation.assigned",
        "channel_id": channel.pk,
        "conversation_id": conversation.pk,
        "agent_id": agent.pk,
        "team_id": team.pk,
    }
    to_agent, to_team = agent_events(), team_events()
    # One event reaching two groups: the same id, so a console in both shows it once.
    assert to_agent.pop("event_id") == to_team.pop("event_id")
    assert to_agent == expected
    assert to_team == expected


def test_round_robin_spreads_conversations_over_the_members(channel, team, now):
    agents = [factories.agent() for _ in range(3)]
    team.members.set(agents)

    chosen = [
        route(factories.conversation(channel=channel), now + timedelta(seconds=i)).agent_id
        for i in range(6)
    ]

    first_round = sorted(agent.pk for agent in agents)
    assert chosen == first_round + first_round


def test_load_balanced_team_picks_the_least_loaded_relative_to_capacity(channel, now):
    busy = factories.agent(capacity=2)
    roomy = factories.agent(capacity=10)
    team = factories.team(channels=[channel], members=[busy, roomy], strategy="load-balanced")
    factories.conversation(channel=channel, assignee=busy.user, team=team)  # 1 of 2
    for _ in range(3):  # 3 of 10
        factories.conversation(channel=channel, assignee=roomy.user, team=team)

    assert route(factories.conversation(channel=channel), now).agent_id == roomy.pk


def test_nobody_online_leaves_the_conversation_in_the_team_queue(channel, team, now):
    team.members.add(
        factories.agent(presence=Presence.AWAY),
        factories.agent(last_heartbeat_at=now - timedelta(seconds=91)),
    )
    conversation = factories.conversation(channel=channel)

    assert route(conversation, now) is None

    conversation.refresh_from_db()
    assert (conversation.team_id, conversation.assignee_id) == (team.pk, None)
    assert not Assignment.objects.exists()


def test_queued_conversation_is_announced_to_the_team(
    channel, team, now, group_listener, django_capture_on_commit_callbacks
):
    conversation = factories.conversation(channel=channel)
    team_events = group_listener(f"team.{team.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        route(conversation, now)

    assert team_events()["type"] == "conversation.queued"


def test_a_full_agent_gets_nothing_more(channel, team, now):
    agent = factories.agent(capacity=1)
    team.members.add(agent)
    route(factories.conversation(channel=channel), now)

    assert route(factories.conversation(channel=channel), now) is None
    assert Conversation.objects.filter(assignee=agent.user).count() == 1


def test_resolved_conversations_do_not_count_as_load(channel, team, now):
    agent = factories.agent(capacity=1)
    team.members.add(agent)
    factories.conversation(
        channel=channel, assignee=agent.user, status=Conversation.Status.RESOLVED
    )

    assert route(factories.conversation(channel=channel), now).agent_id == agent.pk


def test_dm_limit_keeps_room_for_public_conversations(channel, team, now):
    agent = factories.agent(capacity=5, dm_capacity=1)
    team.members.add(agent)
    route(factories.conversation(channel=channel, source="dm"), now)

    assert route(factories.conversation(channel=channel, source="dm"), now) is None
    comment = factories.conversation(channel=channel, source="comment", thread_key="post-1")
    assert route(comment, now).agent_id == agent.pk


def test_routing_twice_assigns_once(channel, team, now):
    team.members.add(factories.agent(), factories.agent())
    conversation = factories.conversation(channel=channel)

    route(conversation, now)
    assert route(conversation, now) is None
    assert conversation.assignments.count() == 1


def test_resolved_conversation_is_not_routed(channel, team, now):
    team.members.add(factories.agent())
    conversation = factories.conversation(channel=channel, status=Conversation.Status.RESOLVED)

    assert route(conversation, now) is None
    assert not Assignment.objects.exists()


def test_channel_served_by_no_team_stays_unrouted(channel, now):
    conversation = factories.conversation(channel=channel)

    assert route(conversation, now) is None
    conversation.refresh_from_db()
    assert conversation.team_id is None


def test_oldest_serving_team_gets_conversations_no_rule_sends_elsewhere(channel, now):
    first = factories.team(channels=[channel])
    factories.team(channels=[channel])
    conversation = factories.conversation(channel=channel)

    route(conversation, now)

    conversation.refresh_from_db()
    assert conversation.team_id == first.pk


def test_reopened_conversation_stays_with_an_assignee_who_can_keep_it(channel, team, now):
    keeper, other = factories.agent(), factories.agent()
    team.members.add(keeper, other)
    conversation = factories.conversation(channel=channel, assignee=keeper.user, team=team)

    assert route(conversation, now) is None
    conversation.refresh_from_db()
    assert conversation.assignee_id == keeper.pk


def test_reopened_conversation_of_an_offline_assignee_goes_to_someone_online(channel, team, now):
    gone = factories.agent(last_heartbeat_at=now - timedelta(minutes=10))
    online = factories.agent()
    team.members.add(gone, online)
    conversation = factories.conversation(channel=channel, assignee=gone.user, team=team)

    assert route(conversation, now).agent_id == online.pk


def test_reopened_conversation_leaves_an_assignee_it_would_put_over_capacity(channel, team, now):
    full = factories.agent(capacity=1)
    team.members.add(full)
    factories.conversation(channel=channel, assignee=full.user, team=team)
    reopened = factories.conversation(channel=channel, assignee=full.user, team=team)

    assert route(reopened, now) is None
    reopened.refresh_from_db()
    assert (reopened.assignee_id, reopened.team_id) == (None, team.pk)


def test_conversation_assigned_to_a_user_without_agent_profile_is_left_alone(channel, team, now):
    team.members.add(factories.agent())
    conversation = factories.conversation(channel=channel, assignee=factories.user())

    assert route(conversation, now) is None


def test_the_task_routes_by_id(channel, team):
    agent = factories.agent()
    team.members.add(agent)
    conversation = factories.conversation(channel=channel)

    conversation_route_task.delay(conversation_id=conversation.pk)

    conversation.refresh_from_db()
    assert conversation.assignee_id == agent.pk


def test_the_task_returns_quietly_for_a_deleted_conversation(channel, team):
    team.members.add(factories.agent())

    result = conversation_route_task.delay(conversation_id=987654)

    assert result.successful()
    assert not Assignment.objects.exists()


def test_conversation_left_unrouted_reaches_a_team_that_serves_its_channel_later(channel, now):
    conversation = factories.conversation(channel=channel)
    route(conversation, now)
    agent = factories.agent()
    factories.team(channels=[channel], members=[agent])

    assert route(conversation, now).agent_id == agent.pk
