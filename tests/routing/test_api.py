from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from routing.presence import Presence
from routing.services import conversation_route
from tests import factories

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def manager_client():
    manager = factories.user()
    manager.user_permissions.add(Permission.objects.get(codename="assign_conversation"))
    return client_for(manager)


def assign_url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/assign/"


def test_assign_to_an_agent_answers_with_the_assignment(channel, manager_client):
    agent = factories.agent()
    conversation = factories.conversation(channel=channel)

    response = manager_client.post(assign_url(conversation), {"agent": agent.pk}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["conversation"], body["agent"], body["queued"]) == (
        conversation.pk,
        agent.pk,
        False,
    )
    assert body["assignment"]["by"] == "person"
    assert body["assignment"]["agent"] == agent.pk


def test_transfer_to_a_team_without_free_agents_answers_queued(channel, manager_client):
    team = factories.team()
    conversation = factories.conversation(channel=channel)

    response = manager_client.post(assign_url(conversation), {"team": team.pk}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "conversation": conversation.pk,
        "team": team.pk,
        "agent": None,
        "queued": True,
        "assignment": None,
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [({"agent": 424242}, "unknown_agent"), ({"team": 424242}, "unknown_team")],
)
def test_unknown_agent_or_team_is_a_400_with_a_reason(channel, manager_client, body, code):
    conversation = factories.conversation(channel=channel)

    response = manager_client.post(assign_url(conversation), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert "424242" in response.json()["message"]


def test_full_agent_without_override_is_a_400(channel, manager_client):
    agent = factories.agent(capacity=1)
    factories.conversation(channel=channel, assignee=agent.user)
    conversation = factories.conversation(channel=channel)

    response = manager_client.post(assign_url(conversation), {"agent": agent.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "agent_at_capacity"
    assert response.json()["capacity"] == 1


def test_override_needs_its_permission(channel, manager_client):
    agent = factories.agent(capacity=0)
    conversation = factories.conversation(channel=channel)

    response = manager_client.post(
        assign_url(conversation), {"agent": agent.pk, "override": True}, format="json"
    )

    assert response.status_code == 403


def test_staff_override_exceeds_capacity(channel):
    agent = factories.agent(capacity=0)
    conversation = factories.conversation(channel=channel)

    response = client_for(factories.user(is_staff=True)).post(
        assign_url(conversation), {"agent": agent.pk, "override": True}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["assignment"]["capacity_override"] is True


def test_assigning_without_permission_is_a_403(channel):
    conversation = factories.conversation(channel=channel)

    response = client_for(factories.user()).post(
        assign_url(conversation), {"agent": factories.agent().pk}, format="json"
    )

    assert response.status_code == 403
    assert conversation.assignments.count() == 0


def test_anonymous_callers_are_refused(channel):
    conversation = factories.conversation(channel=channel)
    response = APIClient().post(assign_url(conversation), {"agent": 1}, format="json")
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(
    "body",
    [{}, {"agent": 1, "team": 1}, {"agent": "someone"}, {"team": 1, "override": True}],
)
def test_malformed_assign_body_is_a_400(channel, manager_client, body):
    conversation = factories.conversation(channel=channel)
    response = manager_client.post(assign_url(conversation), body, format="json")
    assert response.status_code == 400


def test_unknown_conversation_is_a_404(manager_client):
    response = manager_client.post(
        "/api/v1/conversations/424242/assign/", {"agent": factories.agent().pk}, format="json"
    )
    assert response.status_code == 404


def test_agents_list_shows_presence_load_and_capacity(channel):
    now = timezone.now()
    online = factories.agent(capacity=4, dm_capacity=2)
    stale = factories.agent(last_heartbeat_at=now - timedelta(minutes=3))
    team = factories.team(members=[online])
    factories.conversation(channel=channel, assignee=online.user)
    factories.conversation(channel=channel, assignee=online.user, source="comment", thread_key="p")

    response = client_for(factories.user()).get("/api/v1/agents/")

    assert response.status_code == 200
    by_id = {row["id"]: row for row in response.json()}
    assert by_id[online.pk]["presence"] == "online"
    assert by_id[online.pk]["load"] == {"total": 2, "dm": 1, "public": 1}
    assert by_id[online.pk]["capacity"] == {"total": 4, "dm": 2, "public": None}
    assert by_id[online.pk]["teams"] == [team.pk]
    assert by_id[stale.pk]["presence"] == "offline"


def test_heartbeat_sets_the_callers_presence():
    agent = factories.agent(presence=Presence.OFFLINE, last_heartbeat_at=None)

    response = client_for(agent.user).post(
        "/api/v1/agents/me/heartbeat/", {"status": "online"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["presence"] == "online"
    agent.refresh_from_db()
    assert agent.last_heartbeat_at is not None


def test_heartbeat_rejects_an_unknown_status():
    agent = factories.agent()
    response = client_for(agent.user).post(
        "/api/v1/agents/me/heartbeat/", {"status": "offline"}, format="json"
    )
    assert response.status_code == 400


def test_heartbeat_from_a_user_without_agent_profile_is_a_404():
    response = client_for(factories.user()).post(
        "/api/v1/agents/me/heartbeat/", {"status": "online"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_an_agent"


def test_team_queue_lists_waiting_conversations_in_order_for_members(channel):
    member = factories.agent(presence=Presence.AWAY)
    team = factories.team(channels=[channel], members=[member])
    low = factories.conversation(channel=channel, priority="low")
    urgent = factories.conversation(channel=channel, priority="urgent")
    for conversation in (low, urgent):
        conversation_route(conversation_id=conversation.pk)

    response = client_for(member.user).get(f"/api/v1/teams/{team.pk}/queue/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["position"], row["id"]) for row in rows] == [(1, urgent.pk), (2, low.pk)]
    assert rows[0]["sla_deadline"] is None


def test_team_queue_is_hidden_from_non_members(channel):
    team = factories.team(channels=[channel])
    response = client_for(factories.user()).get(f"/api/v1/teams/{team.pk}/queue/")
    assert response.status_code == 404


def test_queue_of_an_unknown_team_is_a_404(manager_client):
    assert manager_client.get("/api/v1/teams/424242/queue/").status_code == 404
