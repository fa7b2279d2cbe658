"""Ingest: normalized platform events into customers, conversations and messages,
idempotently: the database's unique constraints settle races.

`events_ingest` applies a batch (the deliveries a worker took together), customer messages
set-wise through `inbox.services.batch`; `event_ingest` applies one event, and is what a batch
falls back to, event by event, when it fails.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from inbox.broadcast import broadcast_on_commit, broadcasts_batched
from inbox.models import Attachment, Conversation, Customer, CustomerIdentity, Message
from inbox.services.batch import messages_ingest
from inbox.services.replies import reply_mark_sent
from inbox.services.sanitise import ItemRefused, attachment_url, clip, event_clean, web_url
from integrations.models import Channel
from integrations.platforms.base import (
    InboundMessage,
    MessageDeleted,
    MessageEdited,
    NormalizedEvent,
    OutboundEcho,
    Sender,
    StatusReceipt,
)
from sla.services.clocks import sla_on_agent_reply

logger = logging.getLogger(__name__)

# Receipts only move a message forward along this order, never back.
DELIVERY_ORDER = [
    Message.DeliveryStatus.PENDING,
    Message.DeliveryStatus.SENT,
    Message.DeliveryStatus.DELIVERED,
    Message.DeliveryStatus.READ,
]
# How often to retry storing a message or finding a thread's conversation when a concurrent
# worker wrote it first (each retry sees the other worker's committed row).
THREAD_RACE_RETRIES = 3


@dataclass(frozen=True)
class ItemResult:
    """What became of one normalized event of a batch."""

    acted: bool  # it changed the inbox (or was stored before: a redelivery)
    refused: str = ""  # why it was not stored, when it could not be


@transaction.atomic(savepoint=False)
@broadcasts_batched()
def events_ingest(
    *, items: Sequence[tuple[Channel, NormalizedEvent]], now: datetime | None = None
) -> list[ItemResult]:
    """Apply a batch of normalized events in order, runs of customer messages set-wise; return
    one result per item. An item refused by sanitising is reported, not raised.

    All or nothing: any other error dooms the caller's transaction (no savepoint is spent on
    the batch), and the caller applies the events one by one with `event_ingest` instead.
    """
    now = now or timezone.now()
    results: list[ItemResult | None] = [None] * len(items)
    run: list[tuple[int, Channel, InboundMessage]] = []

    def run_ingest() -> None:
        messages_ingest(items=[(channel, event) for _, channel, event in run], now=now)
        for index, _, _ in run:
            results[index] = ItemResult(acted=True)
        run.clear()

    for index, (channel, event) in enumerate(items):
        try:
            event = event_clean(event)
        except ItemRefused as exc:
            results[index] = ItemResult(acted=False, refused=exc.message)
            continue
        if isinstance(event, InboundMessage):
            run.append((index, channel, event))
            continue
        if run:
            run_ingest()  # keep the order: an edit or a receipt may follow the message it names
        results[index] = ItemResult(acted=_event_apply(channel=channel, event=event, now=now))
    if run:
        run_ingest()
    return results


def event_ingest(*, channel: Channel, event: NormalizedEvent, now: datetime | None = None) -> bool:
    """Apply one normalized event to the inbox; return whether it changed anything.

    Receipts, edits and deletions for messages this inbox never stored change nothing. An event
    that cannot be stored (an id longer than its column) raises ItemRefused.
    """
    return _event_apply(channel=channel, event=event_clean(event), now=now or timezone.now())


def _event_apply(*, channel: Channel, event: NormalizedEvent, now: datetime) -> bool:
    match event:
        case InboundMessage():
            return message_ingest(channel=channel, event=event, now=now) is not None
        case OutboundEcho():
            return echo_ingest(channel=channel, event=event, now=now) is not None
        case StatusReceipt():
            return receipt_apply(channel=channel, event=event) > 0
        case MessageEdited():
            return message_edit_apply(channel=channel, event=event, now=now) is not None
        case MessageDeleted():
            return message_delete_apply(channel=channel, event=event, now=now) is not None
    return False  # Ignored


def customer_identity_upsert(*, platform: str, sender: Sender) -> CustomerIdentity:
    """Find the customer behind a platform identity, creating both on first contact, and keep
    their handle, name and avatar current."""
    lookup = {"platform": platform, "external_id": sender.external_id}
    identity = CustomerIdentity.objects.select_related("customer").filter(**lookup).first()
    fields = {
        "handle": clip(CustomerIdentity, "handle", sender.handle),
        "display_name": clip(CustomerIdentity, "display_name", sender.display_name),
        "avatar_url": clip(CustomerIdentity, "avatar_url", web_url(sender.avatar_url)),
    }
    if identity is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    display_name=fields["display_name"] or fields["handle"] or sender.external_id[:255]
                )
                return CustomerIdentity.objects.create(customer=customer, **lookup, **fields)
        except IntegrityError:
            # A concurrent worker met this customer first; use theirs.
            identity = CustomerIdentity.objects.select_related("customer").get(**lookup)
    changed = {name: value for name, value in fields.items() if value and getattr(identity, name) != value}
    if changed:
        CustomerIdentity.objects.filter(pk=identity.pk).update(**changed)
        for name, value in changed.items():
            setattr(identity, name, value)
    return identity


def _thread_conversation(
    *, channel: Channel, customer: Customer, thread_key: str, source: str, at: datetime, now: datetime, defaults: dict
) -> Conversation:
    """Return the thread's active conversation, else a new one linked to the last (a message
    the account sent never reopens a resolved conversation)."""
    thread = Conversation.objects.filter(channel=channel, customer=customer, thread_key=thread_key)
    for _ in range(THREAD_RACE_RETRIES):
        active = thread.filter(status__in=Conversation.ACTIVE_STATUSES).first()
        if active is not None:
            return active
        latest = thread.order_by("-created_at", "-id").first()
        try:
            with transaction.atomic():
                return Conversation.objects.create(
                    channel=channel, customer=customer, thread_key=thread_key, source=source, previous=latest,
                    created_at=at, updated_at=now, last_message_at=at, **defaults,
                )
        except IntegrityError:
            continue  # a concurrent worker opened this thread's conversation first: use it
    return thread.get(status__in=Conversation.ACTIVE_STATUSES)


def _conversation_touch(*, conversation: Conversation, at: datetime, now: datetime) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=Greatest(F("last_message_at"), Value(at)), updated_at=now
    )


def _message_create(*, conversation: Conversation, channel: Channel, platform_message_id: str, attachments,
                    **fields) -> Message | None:
    """Create the message and its attachments, or return None if the platform id is taken."""
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation, channel=channel, platform_message_id=platform_message_id, **fields
            )
            Attachment.objects.bulk_create(
                Attachment(
                    message=message,
                    type=attachment.type,
                    url=clip(Attachment, "url", attachment_url(attachment.url)),
                    name=clip(Attachment, "name", attachment.name),
                )
                for attachment in attachments
            )
            return message
    except IntegrityError:
        return None


@transaction.atomic
@broadcasts_batched()
def message_ingest(*, channel: Channel, event: InboundMessage, now: datetime | None = None) -> Message:
    """Store a customer's message once, in its thread's conversation: a batch of one. A race
    lost to a concurrent worker rolls the attempt back to its savepoint, and the next attempt
    finds that worker's committed rows."""
    now = now or timezone.now()
    event = event_clean(event)
    for _ in range(THREAD_RACE_RETRIES):
        try:
            with broadcasts_batched(), transaction.atomic():
                return messages_ingest(items=[(channel, event)], now=now)[0]
        except IntegrityError:
            continue
    return messages_ingest(items=[(channel, event)], now=now)[0]


def _reply_by_token(*, channel: Channel, token: str) -> Message | None:
    """The pending reply whose idempotency key the platform echoed back (Meta's `metadata`)."""
    try:
        client_token = UUID(token)
    except ValueError:
        return None  # no token, or metadata another app set
    return Message.objects.filter(channel=channel, client_token=client_token, platform_message_id__isnull=True).first()


@transaction.atomic
def echo_ingest(*, channel: Channel, event: OutboundEcho, now: datetime | None = None) -> Message | None:
    """Record a message the account itself sent: confirm our own reply, or keep one sent from
    the platform's own app in the thread so the history is complete. Never a customer message."""
    now = now or timezone.now()
    existing = Message.objects.filter(channel=channel, platform_message_id=event.platform_message_id).first()
    if existing is not None:
        Message.objects.filter(pk=existing.pk, delivery_status=Message.DeliveryStatus.PENDING).update(
            delivery_status=Message.DeliveryStatus.SENT
        )
        return existing
    if (reply := _reply_by_token(channel=channel, token=event.metadata)) is not None:
        # Our own reply, echoed before its send task could record the platform's id (it may
        # have crashed right after the platform accepted): the echo completes it, and the
        # retried task then finds it sent instead of sending it again.
        reply_mark_sent(message_id=reply.pk, platform_message_id=event.platform_message_id, now=now)
        return reply
    if not event.recipient.external_id:
        return None  # no customer to file it under
    customer = customer_identity_upsert(platform=channel.platform, sender=event.recipient).customer
    conversation = _thread_conversation(
        channel=channel, customer=customer, thread_key=clip(Conversation, "thread_key", event.thread_key),
        source=event.source, at=event.timestamp, now=now,
        defaults={"external_thread_id": clip(Conversation, "external_thread_id", event.external_thread_id)},
    )
    message = _message_create(
        conversation=conversation, channel=channel, platform_message_id=event.platform_message_id,
        attachments=event.attachments, direction=Message.Direction.OUTBOUND, sender_type=Message.SenderType.AGENT,
        content=event.text, content_type=event.content_type, delivery_status=Message.DeliveryStatus.SENT,
        platform_timestamp=event.timestamp, created_at=event.timestamp,
    )
    if message is None:
        return Message.objects.get(channel=channel, platform_message_id=event.platform_message_id)
    _conversation_touch(conversation=conversation, at=event.timestamp, now=now)
    # Answered from the platform's own app: still the team's response to the customer.
    sla_on_agent_reply(message_id=message.pk, sent_at=event.timestamp, now=now)
    broadcast_on_commit(
        event_type="message.created", channel_id=channel.pk, conversation_id=conversation.pk, message_id=message.pk
    )
    return message


@transaction.atomic
def receipt_apply(*, channel: Channel, event: StatusReceipt) -> int:
    """Move our sent messages forward to delivered or read; return how many moved."""
    earlier = DELIVERY_ORDER[: DELIVERY_ORDER.index(event.status)]
    # A reply the platform has not accepted yet (no id) was neither delivered nor read,
    # whatever a watermark says: moving it on would stop it from ever being sent.
    messages = Message.objects.filter(
        channel=channel, direction=Message.Direction.OUTBOUND, delivery_status__in=earlier,
        platform_message_id__isnull=False,
    )
    if event.platform_message_ids:
        messages = messages.filter(platform_message_id__in=event.platform_message_ids)
    elif event.watermark is not None and event.customer_external_id:
        # "Everything up to this time was delivered/read" in the thread with this customer.
        messages = messages.filter(
            conversation__customer__identities__platform=channel.platform,
            conversation__customer__identities__external_id=event.customer_external_id,
            created_at__lte=event.watermark,
        )
    else:
        return 0
    moved = list(messages.values_list("pk", "conversation_id"))
    Message.objects.filter(pk__in=[pk for pk, _ in moved]).update(delivery_status=event.status)
    for message_id, conversation_id in moved:
        broadcast_on_commit(
            event_type="message.status", channel_id=channel.pk, conversation_id=conversation_id, message_id=message_id
        )
    return len(moved)


def _message_changed(*, channel: Channel, platform_message_id: str, **changes) -> Message | None:
    message = Message.objects.filter(channel=channel, platform_message_id=platform_message_id).first()
    if message is None:
        return None  # a message from before this channel was connected
    Message.objects.filter(pk=message.pk).update(**changes)
    broadcast_on_commit(
        event_type="message.changed", channel_id=channel.pk, conversation_id=message.conversation_id,
        message_id=message.pk,
    )
    return message


@transaction.atomic
def message_edit_apply(*, channel: Channel, event: MessageEdited, now: datetime | None = None) -> Message | None:
    """Show the customer's edited text."""
    return _message_changed(
        channel=channel, platform_message_id=event.platform_message_id, content=event.text,
        edited_at=event.timestamp or now or timezone.now(),
    )


@transaction.atomic
def message_delete_apply(*, channel: Channel, event: MessageDeleted, now: datetime | None = None) -> Message | None:
    """Mark a message the customer unsent as deleted; its text stays for the team's record."""
    return _message_changed(
        channel=channel, platform_message_id=event.platform_message_id,
        deleted_at=event.timestamp or now or timezone.now(),
    )
