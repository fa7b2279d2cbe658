import pytest
from django.contrib.auth.models import Permission

from helpdesk.errors import NotFound
from inbox.models import Conversation
from routing.errors import (
    AgentAtCapacity,
    AssignmentForbidden,
    ConversationNotActive,
    UnknownAgent,
    UnknownTeam,
)
from routing.models import Assignment
from routing.services import conversation_assign, conversation_route, conversation_transfer
from tests import factories

pytestmark = pytest.mark.django_db


def user_with(*codenames):
    user = factories.user()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def manager():
    return user_with("assign_conversation")


def test_person_with_permission_assigns_to_an_agent(channel, manager, now):
    agent = factories.agent()
    conversation = factories.conversation(channel=channel)

    assignment = conversation_assign(
        conversation_id=conversation.pk, agent_id=agent.pk, actor=manager, now=now
    )

    conversation.refresh_from_db()
    assert conversation.assignee_id == agent.pk
    assert (assignment.by, assignment.actor, assignment.strategy, assignment.capacity_override) == (
        Assignment.By.PERSON,
        manager,
        "",
        False,
    )


def test_staff_may_assign_without_the_permission(channel):
    agent = factories.agent()
    conversation = factories.conversation(channel=channel)

    conversation_assign(
        conversation_id=conversation.pk, agent_id=agent.pk, actor=factories.user(is_staff=True)
    )

    assert conversation.assignments.count() == 1


def test_assigning_needs_the_permission(channel):
    conversation = factories.conversation(channel=channel)
    with pytest.raises(AssignmentForbidden):
        conversation_assign(
            conversation_id=conversation.pk, agent_id=factories.agent().pk, actor=factories.user()
        )


def test_an_offline_agent_can_be_assigned_by_hand(channel, manager):
    agent = factories.agent(last_heartbeat_at=None)
    conversation = factories.conversation(channel=channel)

    assignment = conversation_assign(
        conversation_id=conversation.pk, agent_id=agent.pk, actor=manager
    )

    assert assignment.agent_id == agent.pk


def test_a_full_agent_is_refused_without_override(channel, manager):
    agent = factories.agent(capacity=1)
    factories.conversation(channel=channel, assignee=agent.user)
    conversation = factories.conversation(channel=channel)

    with pytest.raises(AgentAtCapacity) as error:
        conversation_assign(conversation_id=conversation.pk, agent_id=agent.pk, actor=manager)

    assert error.value.extra == {"agent": agent.pk, "kind": "dm", "load": 1, "capacity": 1}
    conversation.refresh_from_db()
    assert conversation.assignee_id is None


def test_override_exceeds_capacity_with_its_own_permission(channel):
    agent = factories.agent(capacity=1)
    factories.conversation(channel=channel, assignee=agent.user)
    conversation = factories.conversation(channel=channel)
    lead = user_with("assign_conversation", "override_capacity")

    assignment = conversation_assign(
        conversation_id=conversation.pk, agent_id=agent.pk, actor=lead, override=True
    )

    assert assignment.capacity_override is True


def test_override_without_its_permission_is_refused(channel, manager):
    conversation = factories.conversation(channel=channel)
    with pytest.raises(AssignmentForbidden):
        conversation_assign(
            conversation_id=conversation.pk,
            agent_id=factories.agent().pk,
            actor=manager,
            override=True,
        )


def test_unknown_agent_is_refused(channel, manager):
    conversation = factories.conversation(channel=channel)
    with pytest.raises(UnknownAgent):
        conversation_assign(conversation_id=conversation.pk, agent_id=424242, actor=manager)


def test_a_user_without_agent_profile_is_an_unknown_agent(channel, manager):
    conversation = factories.conversation(channel=channel)
    with pytest.raises(UnknownAgent):
        conversation_assign(
            conversation_id=conversation.pk, agent_id=factories.user().pk, actor=manager
        )


def test_resolved_conversation_cannot_be_assigned(channel, manager):
    conversation = factories.conversation(channel=channel, status=Conversation.Status.RESOLVED)
    with pytest.raises(ConversationNotActive):
        conversation_assign(
            conversation_id=conversation.pk, agent_id=factories.agent().pk, actor=manager
        )


def test_missing_conversation_is_not_found(manager):
    with pytest.raises(NotFound):
        conversation_assign(conversation_id=424242, agent_id=factories.agent().pk, actor=manager)


def test_assigning_again_to_the_same_agent_returns_the_same_assignment(channel, manager):
    agent = factories.agent(capacity=1)
    conversation = factories.conversation(channel=channel)
    first = conversation_assign(conversation_id=conversation.pk, agent_id=agent.pk, actor=manager)

    again = conversation_assign(conversation_id=conversation.pk, agent_id=agent.pk, actor=manager)

    assert again == first


def test_reassigning_frees_the_previous_agent_for_their_queue(
    channel, team, manager, now, django_capture_on_commit_callbacks
):
    previous = factories.agent(capacity=1)
    team.members.add(previous)
    held = factories.conversation(channel=channel)
    conversation_route(conversation_id=held.pk, now=now)
    waiting = factories.conversation(channel=channel)
    conversation_route(conversation_id=waiting.pk, now=now)  # queued: previous is full

    with django_capture_on_commit_callbacks(execute=True):
        conversation_assign(
            conversation_id=held.pk, agent_id=factories.agent().pk, actor=manager, now=now
        )

    waiting.refresh_from_db()
    assert waiting.assignee_id == previous.pk


def test_transfer_to_a_team_lets_its_strategy_pick_an_agent(channel, team, manager, now):
    first = factories.agent()
    team.members.add(first)
    conversation = factories.conversation(channel=channel)
    conversation_route(conversation_id=conversation.pk, now=now)
    specialists = factories.team()
    specialist = factories.agent()
    specialists.members.add(specialist)

    assignment = conversation_transfer(
        conversation_id=conversation.pk, team_id=specialists.pk, actor=manager, now=now
    )

    conversation.refresh_from_db()
    assert (conversation.team_id, conversation.assignee_id) == (specialists.pk, specialist.pk)
    assert (assignment.by, assignment.actor, assignment.team_id) == (
        Assignment.By.STRATEGY,
        manager,
        specialists.pk,
    )


def test_transfer_to_a_team_with_nobody_free_queues_there(channel, team, manager, now):
    agent = factories.agent()
    team.members.add(agent)
    conversation = factories.conversation(channel=channel)
    conversation_route(conversation_id=conversation.pk, now=now)
    empty = factories.team()

    assert (
        conversation_transfer(
            conversation_id=conversation.pk, team_id=empty.pk, actor=manager, now=now
        )
        is None
    )

    conversation.refresh_from_db()
    assert (conversation.team_id, conversation.assignee_id) == (empty.pk, None)


def test_transfer_keeps_the_skills_rules_required(channel, team, manager, now):
    spanish = factories.skill(name="spanish")
    factories.rule(language="es", required_skill=spanish)
    conversation = factories.conversation(channel=channel, language="es")
    conversation_route(conversation_id=conversation.pk, now=now)
    other = factories.team()
    speaker = factories.agent(skills={spanish: 2})
    other.members.add(factories.agent(), speaker)

    assignment = conversation_transfer(
        conversation_id=conversation.pk, team_id=other.pk, actor=manager, now=now
    )

    assert assignment.agent_id == speaker.pk


def test_transfer_to_an_unknown_team_is_refused(channel, manager):
    conversation = factories.conversation(channel=channel)
    with pytest.raises(UnknownTeam):
        conversation_transfer(conversation_id=conversation.pk, team_id=424242, actor=manager)


def test_transfer_needs_the_permission(channel, team):
    conversation = factories.conversation(channel=channel)
    with pytest.raises(AssignmentForbidden):
        conversation_transfer(
            conversation_id=conversation.pk, team_id=team.pk, actor=factories.user()
        )
