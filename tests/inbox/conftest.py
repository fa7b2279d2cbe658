from dataclasses import dataclass

import pytest

from inbox.models import Conversation
from integrations.models import Channel
from routing.models import Agent
from tests import factories


@dataclass
class Desk:
    """Two teams on two channels, an agent in each, a manager, and a conversation on each
    channel: the agent of team A may see `ours`, never `theirs`."""

    manager: object
    agent: Agent
    other_agent: Agent
    channel: Channel
    other_channel: Channel
    ours: Conversation
    theirs: Conversation


@pytest.fixture
def desk(db) -> Desk:
    channel = factories.channel(name="Acme Page")
    other_channel = factories.channel(platform="x", name="Other brand")
    agent = factories.agent(
        user=factories.user(username="dana", first_name="Dana", last_name="Rivera")
    )
    other_agent = factories.agent(user=factories.user(username="lee", first_name="Lee"))
    factories.team(name="Team A", channels=[channel], members=[agent])
    factories.team(name="Team B", channels=[other_channel], members=[other_agent])
    ours = factories.conversation(
        channel=channel, customer=factories.customer(display_name="Olivia Brandt")
    )
    theirs = factories.conversation(
        channel=other_channel, customer=factories.customer(display_name="Hidden Customer")
    )
    factories.message(conversation=ours, content="Where is my order?")
    factories.message(conversation=theirs, content="Secret of team B")
    return Desk(
        manager=factories.user(is_staff=True, username="boss"),
        agent=agent,
        other_agent=other_agent,
        channel=channel,
        other_channel=other_channel,
        ours=ours,
        theirs=theirs,
    )
