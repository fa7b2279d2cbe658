"""A batch of normalized events is ingested set-wise: customers, conversations and messages
for the whole batch in a few queries, in order, each item succeeding or being refused on its own."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import Conversation, Customer, CustomerIdentity, Message
from inbox.services import events_ingest, message_ingest
from integrations.platforms.base import Attachment, MessageEdited, Sender
from routing.models import Assignment
from routing.services import route as route_module
from sla.models import Clock, Target
from tests import factories

pytestmark = pytest.mark.django_db


def event(customer="c-1", *, at=None, **overrides):
    return factories.inbound_event(
        **{"sender": Sender(external_id=customer, display_name=f"Customer {customer}"),
           "timestamp": at or timezone.now(), **overrides}
    )


def statements(work) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        work()
    return [query["sql"] for query in queries.captured_queries]


def test_a_batch_stores_each_message_in_its_threads_conversation(channel):
    now = timezone.now()
    items = [
        (channel, event("c-1", at=now, text="first")),
        (channel, event("c-2", at=now, text="other customer")),
        (channel, event("c-1", at=now + timedelta(seconds=1), text="second")),
        (channel, event("c-1", at=now, source="comment", thread_key="post-1", post_id="post-1", text="comment")),
    ]
    results = events_ingest(items=items, now=now)
    assert [result.acted for result in results] == [True] * 4
    assert Customer.objects.count() == 2
    assert Conversation.objects.count() == 3
    dm = Conversation.objects.get(customer__identities__external_id="c-1", thread_key="")
    assert list(dm.messages.order_by("created_at").values_list("content", flat=True)) == ["first", "second"]
    assert dm.last_message_at == now + timedelta(seconds=1)
    assert dm.created_at == now


def test_redelivered_messages_in_and_across_batches_are_stored_once(channel):
    repeated = event("c-1")
    events_ingest(items=[(channel, repeated), (channel, repeated)])
    results = events_ingest(items=[(channel, repeated), (channel, event("c-1"))])
    assert [result.acted for result in results] == [True, True]
    assert Message.objects.count() == 2
    assert Conversation.objects.count() == 1


def test_a_batch_costs_a_few_queries_per_step_not_per_message(channel, monkeypatch):
    """Ingest's own statements do not grow with the batch: 20 follow-ups cost what 2 do, with
    no savepoint; SLA and assist get the batch in one call each."""
    now = timezone.now()
    customers = [f"c-{n}" for n in range(20)]
    events_ingest(items=[(channel, event(c, at=now)) for c in customers], now=now)
    sla_calls, classify_calls = [], []
    monkeypatch.setattr("inbox.services.batch.sla_on_customer_messages", lambda **kwargs: sla_calls.append(kwargs))
    monkeypatch.setattr("inbox.services.batch.messages_classify", lambda **kwargs: classify_calls.append(kwargs))

    def follow_ups(count):
        return lambda: events_ingest(
            items=[(channel, event(c, at=now + timedelta(minutes=count))) for c in customers[:count]], now=now
        )

    two, twenty = statements(follow_ups(2)), statements(follow_ups(20))
    assert len(twenty) == len(two) == 5  # messages, identities, conversations, INSERT, UPDATE
    assert not [sql for sql in twenty if "SAVEPOINT" in sql]
    assert [len(call["arrivals"]) for call in sla_calls] == [2, 20]
    assert [len(call["messages"]) for call in classify_calls] == [2, 20]
    assert Message.objects.count() == 42


def test_new_conversations_cost_a_few_queries_for_the_whole_batch(channel, monkeypatch):
    monkeypatch.setattr("inbox.services.batch.sla_on_customer_messages", lambda **kwargs: None)
    monkeypatch.setattr("inbox.services.batch.new_conversation_route", lambda **kwargs: None)
    monkeypatch.setattr("inbox.services.batch.messages_classify", lambda **kwargs: None)
    queries = statements(lambda: events_ingest(items=[(channel, event(f"c-{n}")) for n in range(20)]))
    # messages, identities, customers, identities, conversations, conversations, messages,
    # and the savepoint that keeps a routing failure from costing the batch its messages
    assert len(queries) == 9
    assert Conversation.objects.count() == 20


def test_profiles_change_and_attachments_are_stored_in_a_batch(channel):
    message_ingest(channel=channel, event=event("c-1"))
    renamed = factories.inbound_event(
        sender=Sender(external_id="c-1", handle="new-handle", display_name="New Name"),
        attachments=(Attachment(type="image", url="https://cdn.example.com/a.jpg"),
                     Attachment(type="file", url="javascript:alert(1)", name="x")),
        timestamp=timezone.now(),
    )
    events_ingest(items=[(channel, renamed)])
    identity = CustomerIdentity.objects.get()
    assert (identity.handle, identity.display_name) == ("new-handle", "New Name")
    message = Message.objects.get(platform_message_id=renamed.platform_message_id)
    assert sorted(message.attachments.values_list("url", flat=True)) == ["", "https://cdn.example.com/a.jpg"]


def test_an_edit_after_its_message_in_the_same_batch_applies(channel):
    new = event("c-1")
    edit = MessageEdited(account_id="acct", platform_message_id=new.platform_message_id, text="edited")
    assert [result.acted for result in events_ingest(items=[(channel, new), (channel, edit)])] == [True, True]
    assert Message.objects.get().content == "edited"


def test_unstorable_text_is_cleaned_and_an_overlong_id_refused_alone(channel):
    items = [
        (channel, event("c-1", text="nul\x00here")),
        (channel, event("c-2", text="lone \ud800 surrogate", sender=Sender(external_id="c-2", display_name="A\x00B"))),
        (channel, event("c-3", platform_message_id="m" * 300)),
        (channel, event("c-4", sender=Sender(external_id="x" * 256))),
        (channel, event("c-5", text="fine")),
    ]
    results = events_ingest(items=items)
    assert [result.acted for result in results] == [True, True, False, False, True]
    assert "platform_message_id is 300 characters long" in results[2].refused
    assert "sender.external_id is 256 characters long" in results[3].refused
    assert sorted(Message.objects.values_list("content", flat=True)) == ["fine", "lone \ufffd surrogate", "nulhere"]
    assert CustomerIdentity.objects.get(external_id="c-2").display_name == "AB"


def test_a_batch_routes_its_new_conversations_and_starts_their_clocks(channel):
    factories.sla_policy(is_default=True)
    team = factories.team(channels=[channel])
    agents = [factories.agent(), factories.agent()]
    team.members.add(*agents)
    events_ingest(items=[(channel, event(f"c-{n}")) for n in range(4)])
    assert Conversation.objects.filter(assignee__isnull=False).count() == 4
    assert Assignment.objects.count() == 4
    assert Clock.objects.filter(target=Target.FIRST_RESPONSE).count() == 4


def test_a_routing_failure_keeps_the_batchs_messages_and_leaves_routing_to_the_tasks(
    channel, monkeypatch, django_capture_on_commit_callbacks
):
    team = factories.team(channels=[channel])
    team.members.add(factories.agent())
    team_route = route_module.team_route
    calls = []

    def broken(**kwargs):
        calls.append(kwargs["conversation"].pk)
        if len(calls) == 2:
            raise RuntimeError("routing bug")
        return team_route(**kwargs)

    monkeypatch.setattr(route_module, "team_route", broken)
    with django_capture_on_commit_callbacks() as callbacks:
        events_ingest(items=[(channel, event(f"c-{n}")) for n in range(3)])
    assert Message.objects.count() == 3
    assert not Assignment.objects.exists()  # the first one's assignment went with the savepoint
    monkeypatch.undo()
    for callback in callbacks:
        callback()  # three routing tasks, then one broadcast trip
    assert Conversation.objects.filter(assignee__isnull=False).count() == 3


def test_a_reopened_conversation_in_a_batch_is_reopened_once(channel, settings):
    first = message_ingest(channel=channel, event=event("c-1"))
    Conversation.objects.update(status=Conversation.Status.RESOLVED, resolved_at=first.created_at)
    later = first.created_at + timedelta(hours=1)
    events_ingest(items=[(channel, event("c-1", at=later)), (channel, event("c-1", at=later + timedelta(seconds=1)))])
    conversation = Conversation.objects.get()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.messages.count() == 3
    assert conversation.last_message_at == later + timedelta(seconds=1)


def test_a_pending_conversation_is_open_again_when_the_customer_writes_in_a_batch(channel):
    first = message_ingest(channel=channel, event=event("c-1"))
    Conversation.objects.update(status=Conversation.Status.PENDING)
    events_ingest(items=[(channel, event("c-1", at=first.created_at + timedelta(minutes=1)))])
    assert Conversation.objects.get().status == Conversation.Status.OPEN
