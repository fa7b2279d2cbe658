"""Ingest hands new and reopened conversations to routing once they are committed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation
from inbox.services import message_ingest
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def serving_agent(channel):
    agent = factories.agent()
    factories.team(channels=[channel], members=[agent])
    return agent


def _ingest(channel, django_capture_on_commit_callbacks, **overrides):
    event = factories.inbound_event(**{"timestamp": timezone.now(), **overrides})
    with django_capture_on_commit_callbacks(execute=True):
        return message_ingest(channel=channel, event=event)


def test_a_new_conversation_is_assigned_to_an_online_agent_of_the_team(
    channel, serving_agent, django_capture_on_commit_callbacks
):
    message = _ingest(channel, django_capture_on_commit_callbacks)
    assert Conversation.objects.get(pk=message.conversation_id).assignee == serving_agent.user


def test_a_reopened_conversation_is_routed_again(channel, serving_agent, django_capture_on_commit_callbacks):
    first = _ingest(channel, django_capture_on_commit_callbacks)
    Conversation.objects.filter(pk=first.conversation_id).update(
        status="resolved", resolved_at=timezone.now(), assignee=None
    )
    _ingest(channel, django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get(pk=first.conversation_id)
    assert (conversation.status, conversation.assignee) == ("open", serving_agent.user)


def test_a_follow_up_message_does_not_reassign(channel, serving_agent, django_capture_on_commit_callbacks):
    first = _ingest(channel, django_capture_on_commit_callbacks)
    other = factories.user()
    Conversation.objects.filter(pk=first.conversation_id).update(assignee=other)
    _ingest(channel, django_capture_on_commit_callbacks, timestamp=timezone.now() + timedelta(minutes=1))
    assert Conversation.objects.get(pk=first.conversation_id).assignee == other
