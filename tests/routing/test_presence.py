from datetime import timedelta

import pytest

from helpdesk.errors import DomainError
from routing.errors import NotAnAgent
from routing.presence import Presence, effective_presence
from routing.services import agent_heartbeat, conversation_route
from tests import factories


def test_presence_holds_while_heartbeats_are_fresh(now):
    fresh = now - timedelta(seconds=90)
    assert effective_presence(stated=Presence.ONLINE, last_heartbeat_at=fresh, now=now) == "online"
    assert effective_presence(stated=Presence.AWAY, last_heartbeat_at=fresh, now=now) == "away"


def test_no_heartbeat_for_more_than_90_seconds_is_offline_whatever_was_stored(now):
    stale = now - timedelta(seconds=91)
    assert effective_presence(stated=Presence.ONLINE, last_heartbeat_at=stale, now=now) == "offline"
    assert effective_presence(stated=Presence.ONLINE, last_heartbeat_at=None, now=now) == "offline"


def test_timeout_comes_from_settings(now, settings):
    settings.ROUTING_PRESENCE_TIMEOUT = timedelta(seconds=10)
    stale = now - timedelta(seconds=11)
    assert effective_presence(stated=Presence.ONLINE, last_heartbeat_at=stale, now=now) == "offline"


@pytest.mark.django_db
def test_heartbeat_records_presence_and_time(now):
    agent = factories.agent(presence=Presence.OFFLINE, last_heartbeat_at=None)

    agent_heartbeat(agent_id=agent.pk, status=Presence.AWAY, now=now)

    agent.refresh_from_db()
    assert (agent.presence, agent.last_heartbeat_at) == (Presence.AWAY, now)
    assert agent.presence_at(now + timedelta(seconds=91)) == Presence.OFFLINE


@pytest.mark.django_db
def test_heartbeat_cannot_claim_offline():
    agent = factories.agent()
    with pytest.raises(DomainError):
        agent_heartbeat(agent_id=agent.pk, status=Presence.OFFLINE)


@pytest.mark.django_db
def test_heartbeat_of_a_user_without_agent_profile_is_refused():
    with pytest.raises(NotAnAgent):
        agent_heartbeat(agent_id=factories.user().pk, status=Presence.ONLINE)


@pytest.mark.django_db
def test_agent_whose_heartbeats_stopped_gets_no_conversations(channel, team, now):
    agent = factories.agent(last_heartbeat_at=now - timedelta(seconds=100))
    team.members.add(agent)

    assert (
        conversation_route(conversation_id=factories.conversation(channel=channel).pk, now=now)
        is None
    )
    assert (
        conversation_route(
            conversation_id=factories.conversation(channel=channel).pk,
            now=now - timedelta(seconds=20),
        ).agent_id
        == agent.pk
    )
