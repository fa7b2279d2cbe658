"""SLA in the conversations API and in routing's queue: deadlines shown, `sla=` filter,
ordering by nearest deadline across pages."""

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from inbox.models import Conversation
from routing.selectors import team_queue
from sla.services.clocks import sla_on_customer_message
from tests import factories

pytestmark = pytest.mark.django_db
LIST_URL = "/api/v1/conversations/"


@pytest.fixture
def api() -> APIClient:
    client = APIClient()
    client.force_authenticate(factories.user(is_staff=True))
    return client


@pytest.fixture
def policy():
    return factories.sla_policy(is_default=True, warning_percent=50)  # 60 min first response


def customer_wrote(minutes_ago: int, **fields) -> Conversation:
    at = factories.inbound_event().timestamp - timedelta(minutes=minutes_ago)
    conversation = factories.conversation(now=at, **fields)
    sla_on_customer_message(conversation_id=conversation.pk, at=at, now=at)
    return conversation


def test_list_shows_each_targets_deadline_and_status(api, policy):
    conversation = customer_wrote(0)
    at = conversation.created_at + timedelta(minutes=45)  # past the 50% warning, before the deadline
    with time_machine.travel(at, tick=False):
        item = api.get(LIST_URL).json()["results"][0]
    first = item["sla"]["first_response"]
    assert first["status"] == "warning"
    assert first["deadline"] == (conversation.created_at + timedelta(minutes=60)).isoformat().replace("+00:00", "Z")
    assert first["remaining_seconds"] == 15 * 60


def test_sla_filter_keeps_breached_conversations(api, policy):
    breached, fine = customer_wrote(90), customer_wrote(5)
    with time_machine.travel(fine.created_at + timedelta(minutes=10), tick=False):
        ids = [row["id"] for row in api.get(LIST_URL, {"sla": "breached"}).json()["results"]]
    assert ids == [breached.id]
    assert api.get(LIST_URL, {"sla": "late"}).status_code == 400


def test_ordering_by_nearest_deadline_pages_without_repeats(api, policy):
    soon, later, latest = customer_wrote(50), customer_wrote(20), customer_wrote(1)
    untracked = factories.conversation()
    seen, url, params = [], LIST_URL, {"ordering": "sla_deadline", "page_size": 2}
    while url:
        page = api.get(url, params).json()
        seen += [row["id"] for row in page["results"]]
        url, params = page["next"], None
    assert seen == [soon.id, later.id, latest.id, untracked.id]


def test_unknown_ordering_is_refused(api):
    response = api.get(LIST_URL, {"ordering": "random"})
    assert response.status_code == 400
    assert "activity" in response.json()["message"]


def test_team_queue_puts_the_nearer_deadline_first_within_a_priority(policy):
    team = factories.team()
    relaxed = customer_wrote(1, team=team)
    pressing = customer_wrote(40, team=team)
    urgent = customer_wrote(0, team=team, priority=Conversation.Priority.URGENT)
    assert list(team_queue(team_id=team.pk)) == [urgent, pressing, relaxed]
