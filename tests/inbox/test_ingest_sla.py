"""Ingest drives the SLA clocks: a customer's message starts them, an answer sent from the
platform's own app stops the response clock."""

from datetime import timedelta

import pytest

from inbox.services import event_ingest, message_ingest
from integrations.platforms.base import OutboundEcho, Sender
from sla.models import Clock, Target
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def default_policy():
    return factories.sla_policy(is_default=True)


def test_first_customer_message_starts_first_response_and_resolution(channel, default_policy):
    event = factories.inbound_event()
    message = message_ingest(channel=channel, event=event, now=event.timestamp)
    clocks = {clock.target: clock for clock in Clock.objects.filter(conversation=message.conversation)}
    assert set(clocks) == {Target.FIRST_RESPONSE, Target.RESOLUTION}
    assert clocks[Target.FIRST_RESPONSE].deadline == event.timestamp + timedelta(minutes=60)
    assert clocks[Target.RESOLUTION].deadline == event.timestamp + timedelta(minutes=480)


def test_reply_from_the_platforms_own_app_meets_the_first_response(channel, default_policy):
    event = factories.inbound_event()
    message = message_ingest(channel=channel, event=event, now=event.timestamp)
    answered_at = event.timestamp + timedelta(minutes=20)
    event_ingest(channel=channel, now=answered_at, event=OutboundEcho(
        account_id=channel.account_id, platform_message_id="from-page-inbox", recipient=Sender(external_id="cust-1"),
        timestamp=answered_at, text="Looking into it"))
    first = Clock.objects.get(conversation=message.conversation, target=Target.FIRST_RESPONSE)
    assert (first.state, first.outcome) == (Clock.State.STOPPED, Clock.Outcome.MET)
