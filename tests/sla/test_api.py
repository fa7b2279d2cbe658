"""The pieces the conversations API uses: the `sla` field, the `sla` filter and the ordering."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_filters import rest_framework as filters
from rest_framework import serializers

from inbox.models import Conversation, Message
from sla.filters import SlaFilter
from sla.selectors import conversations_by_sla_deadline, conversations_with_sla
from sla.serializers import ConversationSlaField
from sla.services.clocks import sla_on_agent_reply, sla_on_customer_message, sla_on_status_change
from tests import factories
from tests.sla.conftest import ROME, T0

MINUTE = timedelta(minutes=1)
pytestmark = pytest.mark.django_db


class ConversationSlaSerializer(serializers.ModelSerializer):
    sla = ConversationSlaField()

    class Meta:
        model = Conversation
        fields = ["id", "sla"]


class ConversationFilter(filters.FilterSet):
    sla = SlaFilter()

    class Meta:
        model = Conversation
        fields: list[str] = []


@pytest.fixture
def policy(db):
    return factories.sla_policy(is_default=True, warning_percent=50)


def customer_wrote(at: datetime) -> Conversation:
    conversation = factories.conversation(now=at)
    sla_on_customer_message(conversation_id=conversation.pk, at=at, now=at)
    return conversation


def rendered_sla(conversation: Conversation, at: datetime) -> dict:
    with time_machine.travel(at, tick=False):
        return ConversationSlaSerializer(
            conversations_with_sla(Conversation.objects).get(pk=conversation.pk)
        ).data["sla"]


def iso(instant: datetime) -> str:
    return serializers.DateTimeField().to_representation(instant)


def test_each_target_shows_its_deadline_remaining_business_seconds_and_status(policy):
    conversation = customer_wrote(T0)

    assert rendered_sla(conversation, T0 + 10 * MINUTE) == {
        "first_response": {
            "status": "ok",
            "deadline": iso(T0 + 60 * MINUTE),
            "remaining_seconds": 50 * 60,
        },
        "next_response": None,
        "resolution": {
            "status": "ok",
            "deadline": iso(T0 + 480 * MINUTE),
            "remaining_seconds": 470 * 60,
        },
    }


@pytest.mark.parametrize(
    ("minutes", "status", "remaining"),
    [(30, "warning", 30 * 60), (61, "breached", -60)],
)
def test_a_clock_warns_then_breaches(policy, minutes, status, remaining):
    conversation = customer_wrote(T0)

    first = rendered_sla(conversation, T0 + minutes * MINUTE)["first_response"]

    assert (first["status"], first["remaining_seconds"]) == (status, remaining)


def test_remaining_time_is_counted_in_business_seconds(db):
    factories.sla_policy(
        is_default=True, business_hours=True, calendar=factories.business_calendar()
    )
    conversation = customer_wrote(datetime(2026, 6, 5, 16, 30, tzinfo=ROME))  # a Friday

    first = rendered_sla(conversation, datetime(2026, 6, 8, 9, 10, tzinfo=ROME))["first_response"]

    assert first["remaining_seconds"] == 20 * 60  # 30 minutes on Friday, 10 this Monday morning


def test_a_paused_clock_and_a_met_one(policy):
    conversation = customer_wrote(T0)
    reply = factories.message(
        conversation=conversation,
        now=T0,
        direction=Message.Direction.OUTBOUND,
        sender_type=Message.SenderType.AGENT,
    )
    sla_on_agent_reply(message_id=reply.pk, sent_at=T0 + 5 * MINUTE, now=T0 + 5 * MINUTE)
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.PENDING)
    sla_on_status_change(conversation_id=conversation.pk, now=T0 + 10 * MINUTE)

    sla = rendered_sla(conversation, T0 + 2 * 60 * MINUTE)

    assert sla["first_response"] == {
        "status": "met",
        "deadline": iso(T0 + 60 * MINUTE),
        "remaining_seconds": None,
    }
    assert sla["resolution"] == {
        "status": "paused",
        "deadline": None,
        "remaining_seconds": 470 * 60,
    }


def test_the_sla_filter_keeps_conversations_at_risk_or_breached(policy):
    fine, at_risk, breached = (
        customer_wrote(T0),
        customer_wrote(T0 - 40 * MINUTE),
        customer_wrote(T0 - 70 * MINUTE),
    )

    with time_machine.travel(T0, tick=False):
        found = {
            state: set(ConversationFilter({"sla": state}, queryset=Conversation.objects.all()).qs)
            for state in ("at_risk", "breached")
        }

    assert found == {"at_risk": {at_risk}, "breached": {breached}}
    assert fine not in found["at_risk"] | found["breached"]


def test_an_unknown_sla_filter_value_is_refused(policy):
    assert not ConversationFilter({"sla": "late"}, queryset=Conversation.objects.all()).is_valid()


def test_ordering_by_nearest_deadline_puts_conversations_without_one_last(policy):
    later, sooner = customer_wrote(T0), customer_wrote(T0 - 20 * MINUTE)
    untracked = factories.conversation(now=T0)

    ordered = list(conversations_by_sla_deadline(Conversation.objects.all()))

    assert ordered == [sooner, later, untracked]
    assert ordered[0].sla_deadline == T0 + 40 * MINUTE


def test_rendering_a_page_costs_the_same_queries_whatever_its_size(policy):
    def queries_to_render() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert ConversationSlaSerializer(
                conversations_with_sla(Conversation.objects.all()), many=True
            ).data
        return len(queries)

    customer_wrote(T0)
    one = queries_to_render()
    for _ in range(4):
        customer_wrote(T0)

    assert queries_to_render() == one
