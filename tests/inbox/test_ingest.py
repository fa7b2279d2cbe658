from datetime import timedelta

import pytest

from inbox.models import Conversation, CustomerIdentity, Message
from inbox.services import event_ingest, message_ingest
from integrations.models import Platform
from integrations.platforms.base import (
    Attachment,
    Ignored,
    MessageDeleted,
    MessageEdited,
    OutboundEcho,
    Sender,
    StatusReceipt,
)
from tests import factories

pytestmark = pytest.mark.django_db


def test_redelivered_message_is_stored_once(channel):
    event = factories.inbound_event(platform_message_id="m-1")
    message_ingest(channel=channel, event=event)
    message_ingest(channel=channel, event=event)
    assert Message.objects.filter(channel=channel).count() == 1


def test_same_platform_id_on_two_channels_is_two_messages(channel):
    other = factories.channel()
    event = factories.inbound_event(platform_message_id="shared-id")
    message_ingest(channel=channel, event=event)
    message_ingest(channel=other, event=event)
    assert Message.objects.filter(platform_message_id="shared-id").count() == 2


def test_first_message_creates_customer_identity_and_open_conversation(channel):
    event = factories.inbound_event(
        sender=Sender(external_id="psid-9", handle="dana", display_name="Dana Rivera",
                      avatar_url="https://cdn.example/a.jpg"),
        text="Hi, my order hasn't arrived.",
    )
    message = message_ingest(channel=channel, event=event)
    identity = CustomerIdentity.objects.get(platform=channel.platform, external_id="psid-9")
    assert identity.customer.display_name == "Dana Rivera"
    assert identity.avatar_url == "https://cdn.example/a.jpg"
    conversation = message.conversation
    assert conversation.customer == identity.customer
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.source == Conversation.Source.DM
    assert message.content == "Hi, my order hasn't arrived."
    assert message.direction == Message.Direction.INBOUND
    assert conversation.last_message_at == event.timestamp


def test_dms_from_one_customer_share_a_conversation(channel):
    first = message_ingest(channel=channel, event=factories.inbound_event())
    second = message_ingest(
        channel=channel, event=factories.inbound_event(timestamp=first.created_at + timedelta(minutes=3))
    )
    assert first.conversation_id == second.conversation_id
    second.conversation.refresh_from_db()
    assert second.conversation.last_message_at == second.created_at


def test_comments_on_two_posts_are_two_conversations(channel):
    on_a = message_ingest(channel=channel, event=factories.inbound_event(source="comment", thread_key="post-a"))
    on_b = message_ingest(channel=channel, event=factories.inbound_event(source="comment", thread_key="post-b"))
    again_a = message_ingest(channel=channel, event=factories.inbound_event(source="comment", thread_key="post-a"))
    assert on_a.conversation_id != on_b.conversation_id
    assert on_a.conversation_id == again_a.conversation_id


def test_two_customers_on_one_post_are_not_merged(channel):
    """The seed deduplicated by platform + customer id and merged threads; threads are per customer."""
    alice = message_ingest(channel=channel, event=factories.inbound_event(
        source="comment", thread_key="post-a", sender=Sender(external_id="alice")))
    bob = message_ingest(channel=channel, event=factories.inbound_event(
        source="comment", thread_key="post-a", sender=Sender(external_id="bob")))
    alice_dm = message_ingest(channel=channel, event=factories.inbound_event(sender=Sender(external_id="alice")))
    assert len({alice.conversation_id, bob.conversation_id, alice_dm.conversation_id}) == 3


def test_resolved_conversation_reopens_when_customer_writes_within_window(channel, settings):
    first = message_ingest(channel=channel, event=factories.inbound_event())
    resolved_at = first.created_at + timedelta(hours=1)
    Conversation.objects.filter(pk=first.conversation_id).update(status="resolved", resolved_at=resolved_at)
    again = message_ingest(channel=channel, event=factories.inbound_event(
        timestamp=resolved_at + settings.CONVERSATION_REOPEN_WINDOW - timedelta(minutes=1)))
    assert again.conversation_id == first.conversation_id
    again.conversation.refresh_from_db()
    assert again.conversation.status == Conversation.Status.OPEN
    assert again.conversation.resolved_at is None


def test_customer_writing_after_the_window_starts_a_linked_conversation(channel, settings):
    first = message_ingest(channel=channel, event=factories.inbound_event())
    resolved_at = first.created_at + timedelta(hours=1)
    Conversation.objects.filter(pk=first.conversation_id).update(status="resolved", resolved_at=resolved_at)
    later = message_ingest(channel=channel, event=factories.inbound_event(
        timestamp=resolved_at + settings.CONVERSATION_REOPEN_WINDOW + timedelta(minutes=1)))
    assert later.conversation_id != first.conversation_id
    assert later.conversation.previous_id == first.conversation_id
    assert Conversation.objects.get(pk=first.conversation_id).status == Conversation.Status.RESOLVED


def test_closed_conversation_is_never_reopened(channel):
    first = message_ingest(channel=channel, event=factories.inbound_event())
    Conversation.objects.filter(pk=first.conversation_id).update(status="closed")
    again = message_ingest(channel=channel, event=factories.inbound_event(
        timestamp=first.created_at + timedelta(minutes=5)))
    assert again.conversation_id != first.conversation_id


def test_customer_reply_moves_pending_conversation_back_to_open(channel):
    first = message_ingest(channel=channel, event=factories.inbound_event())
    Conversation.objects.filter(pk=first.conversation_id).update(status="pending")
    message_ingest(channel=channel, event=factories.inbound_event(timestamp=first.created_at + timedelta(hours=2)))
    assert Conversation.objects.get(pk=first.conversation_id).status == Conversation.Status.OPEN


def test_customer_profile_changes_are_kept_current(channel):
    message_ingest(channel=channel, event=factories.inbound_event(sender=Sender(external_id="c1", handle="old")))
    message_ingest(channel=channel, event=factories.inbound_event(sender=Sender(external_id="c1", handle="new")))
    assert CustomerIdentity.objects.get(external_id="c1").handle == "new"


def test_untrusted_urls_and_oversized_names_are_sanitised(channel):
    event = factories.inbound_event(
        sender=Sender(external_id="c1", display_name="x" * 400, avatar_url="javascript:alert(1)"),
        attachments=(Attachment(type="image", url="javascript:alert(1)"), Attachment(type="image", url="tg-file:AbC")),
        post_url="data:text/html,boom",
    )
    message = message_ingest(channel=channel, event=event)
    identity = CustomerIdentity.objects.get(external_id="c1")
    assert identity.avatar_url == ""
    assert len(identity.display_name) == 255
    assert [a.url for a in message.attachments.order_by("pk")] == ["", "tg-file:AbC"]
    assert message.conversation.post_url == ""


def _sent_reply(conversation, *, platform_message_id, status="sent"):
    return factories.message(
        conversation=conversation, direction="out", sender_type="agent", delivery_status=status,
        platform_message_id=platform_message_id, created_at=conversation.last_message_at + timedelta(minutes=1),
    )


def test_echo_of_our_reply_confirms_it_and_adds_nothing(channel):
    inbound = message_ingest(channel=channel, event=factories.inbound_event())
    reply = _sent_reply(inbound.conversation, platform_message_id="out-1", status="pending")
    event_ingest(channel=channel, event=OutboundEcho(
        account_id=channel.account_id, platform_message_id="out-1", recipient=Sender(external_id="cust-1"),
        timestamp=reply.created_at, text="On its way!"))
    assert Message.objects.filter(conversation=inbound.conversation).count() == 2
    reply.refresh_from_db()
    assert reply.delivery_status == Message.DeliveryStatus.SENT


def test_echo_sent_from_the_platforms_own_inbox_is_kept_as_agent_message(channel):
    inbound = message_ingest(channel=channel, event=factories.inbound_event())
    event_ingest(channel=channel, event=OutboundEcho(
        account_id=channel.account_id, platform_message_id="page-inbox-1", recipient=Sender(external_id="cust-1"),
        timestamp=inbound.created_at + timedelta(minutes=2), text="Answered from the Page inbox"))
    echo = Message.objects.get(platform_message_id="page-inbox-1")
    assert echo.conversation_id == inbound.conversation_id
    assert (echo.direction, echo.sender_type) == (Message.Direction.OUTBOUND, Message.SenderType.AGENT)


def test_receipts_move_status_forward_never_back(channel):
    inbound = message_ingest(channel=channel, event=factories.inbound_event())
    reply = _sent_reply(inbound.conversation, platform_message_id="out-1")
    read = StatusReceipt(account_id=channel.account_id, status="read", platform_message_ids=("out-1",))
    delivered = StatusReceipt(account_id=channel.account_id, status="delivered", platform_message_ids=("out-1",))
    event_ingest(channel=channel, event=read)
    event_ingest(channel=channel, event=delivered)
    reply.refresh_from_db()
    assert reply.delivery_status == Message.DeliveryStatus.READ


def test_watermark_receipt_marks_replies_up_to_it_in_the_customers_thread(channel):
    inbound = message_ingest(channel=channel, event=factories.inbound_event())
    early = _sent_reply(inbound.conversation, platform_message_id="out-1")
    factories.message(conversation=inbound.conversation, direction="out", sender_type="agent",
                             platform_message_id="out-2", created_at=early.created_at + timedelta(hours=1))
    other_customer = message_ingest(channel=channel, event=factories.inbound_event(sender=Sender(external_id="z")))
    _sent_reply(other_customer.conversation, platform_message_id="out-3")
    event_ingest(channel=channel, event=StatusReceipt(
        account_id=channel.account_id, status="read", watermark=early.created_at + timedelta(seconds=1),
        customer_external_id="cust-1"))
    statuses = {m.platform_message_id: m.delivery_status for m in Message.objects.filter(direction="out")}
    assert statuses == {"out-1": "read", "out-2": "sent", "out-3": "sent"}


def test_edit_and_delete_keep_the_message_and_mark_it(channel):
    inbound = message_ingest(channel=channel, event=factories.inbound_event(platform_message_id="m-7", text="helo"))
    event_ingest(channel=channel, event=MessageEdited(account_id="a", platform_message_id="m-7", text="hello"))
    event_ingest(channel=channel, event=MessageDeleted(account_id="a", platform_message_id="m-7"))
    inbound.refresh_from_db()
    assert inbound.content == "hello"
    assert inbound.edited_at is not None
    assert inbound.deleted_at is not None


def test_ignored_event_changes_nothing(channel):
    assert event_ingest(channel=channel, event=Ignored(account_id="a", reason="reaction")) is False
    assert not Message.objects.exists()


def test_new_message_is_broadcast_after_commit(channel, django_capture_on_commit_callbacks):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    inbox_listener = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"inbox.{channel.pk}", inbox_listener)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_ingest(channel=channel, event=factories.inbound_event())
    received = async_to_sync(layer.receive)(inbox_listener)
    assert received.pop("event_id")
    assert received == {
        "type": "message.created", "channel_id": channel.pk, "conversation_id": message.conversation_id,
        "message_id": message.pk,
    }


@pytest.mark.parametrize("platform", [Platform.X, Platform.TELEGRAM])
def test_identities_are_per_platform(platform):
    on_fb = factories.channel()
    on_other = factories.channel(platform=platform)
    a = message_ingest(channel=on_fb, event=factories.inbound_event(sender=Sender(external_id="42")))
    b = message_ingest(channel=on_other, event=factories.inbound_event(sender=Sender(external_id="42")))
    assert a.conversation.customer_id != b.conversation.customer_id


def test_echo_carrying_our_reply_token_completes_the_reply_without_a_duplicate(channel):
    import uuid

    inbound = message_ingest(channel=channel, event=factories.inbound_event())
    token = uuid.uuid4()
    reply = factories.message(conversation=inbound.conversation, direction="out", sender_type="agent",
                              delivery_status="pending", platform_message_id=None, client_token=token)
    event_ingest(channel=channel, event=OutboundEcho(
        account_id=channel.account_id, platform_message_id="m_echoed", recipient=Sender(external_id="cust-1"),
        timestamp=inbound.created_at + timedelta(minutes=1), text=reply.content, metadata=str(token)))
    reply.refresh_from_db()
    assert (reply.platform_message_id, reply.delivery_status) == ("m_echoed", Message.DeliveryStatus.SENT)
    assert Message.objects.filter(direction="out").count() == 1
