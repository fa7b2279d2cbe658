"""Inbox state changes. Ingest turns normalized platform events into customers,
conversations and messages, idempotently: the database's unique constraints settle races."""

import logging
from datetime import datetime
from enum import Enum
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from helpdesk.transactions import enqueue_on_commit
from inbox.broadcast import broadcast_on_commit, broadcasts_batched
from inbox.models import Attachment, Conversation, Customer, CustomerIdentity, Message
from inbox.services.replies import reply_mark_sent
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
from routing.services import new_conversation_route
from routing.tasks import conversation_route_task
from sla.services.clocks import sla_on_agent_reply, sla_on_customer_message

logger = logging.getLogger(__name__)

# Receipts only move a message forward along this order, never back.
DELIVERY_ORDER = [
    Message.DeliveryStatus.PENDING,
    Message.DeliveryStatus.SENT,
    Message.DeliveryStatus.DELIVERED,
    Message.DeliveryStatus.READ,
]
# How often to retry finding or creating a thread's conversation when a concurrent worker
# changes it under us (each retry sees the other worker's committed row).
THREAD_RACE_RETRIES = 3


def _clip(model, field_name: str, value: str) -> str:
    """Cut platform-supplied text to the column's size: a long display name must not fail ingest."""
    return (value or "")[: model._meta.get_field(field_name).max_length]


def _web_url(value: str) -> str:
    """Keep only http(s) URLs from platform data; anything else is dropped, never rendered."""
    return value if value.startswith(("https://", "http://")) else ""


def _attachment_url(value: str) -> str:
    """An http(s) URL, or a platform file reference such as Telegram's `tg-file:<file_id>`
    (fetched later through the API with the bot token, which never goes into a stored URL)."""
    return value if _web_url(value) or value.startswith(Attachment.FILE_REFERENCE_PREFIXES) else ""


def event_ingest(*, channel: Channel, event: NormalizedEvent, now: datetime | None = None) -> bool:
    """Apply one normalized event to the inbox; return whether it changed anything.

    Receipts, edits and deletions for messages this inbox never stored change nothing.
    """
    now = now or timezone.now()
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
        "handle": _clip(CustomerIdentity, "handle", sender.handle),
        "display_name": _clip(CustomerIdentity, "display_name", sender.display_name),
        "avatar_url": _clip(CustomerIdentity, "avatar_url", _web_url(sender.avatar_url)),
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


class Start(Enum):
    """How a message found its thread's active conversation."""

    NONE = "none"  # it was open or pending already
    CREATED = "created"
    REOPENED = "reopened"


def _thread_conversation(
    *, channel: Channel, customer: Customer, thread_key: str, source: str, at: datetime, now: datetime,
    defaults: dict, reopen: bool,
) -> tuple[Conversation, Start]:
    """Return the thread's active conversation: the open or pending one, else the resolved one
    reopened (when `reopen` and within the window), else a new one linked to the last; and
    how it started."""
    thread = Conversation.objects.filter(channel=channel, customer=customer, thread_key=thread_key)
    for _ in range(THREAD_RACE_RETRIES):
        active = thread.filter(status__in=Conversation.ACTIVE_STATUSES).first()
        if active is not None:
            return active, Start.NONE
        latest = thread.order_by("-created_at", "-id").first()
        try:
            with transaction.atomic():
                if (
                    reopen
                    and latest is not None
                    and latest.status == Conversation.Status.RESOLVED
                    and latest.resolved_at is not None
                    and at - latest.resolved_at <= settings.CONVERSATION_REOPEN_WINDOW
                ):
                    reopened = Conversation.objects.filter(pk=latest.pk, status=Conversation.Status.RESOLVED).update(
                        status=Conversation.Status.OPEN, resolved_at=None, updated_at=now
                    )
                    if reopened:
                        latest.refresh_from_db()
                        return latest, Start.REOPENED
                    continue  # someone else reopened or closed it meanwhile: look again
                created = Conversation.objects.create(
                    channel=channel, customer=customer, thread_key=thread_key, source=source, previous=latest,
                    created_at=at, updated_at=now, last_message_at=at, **defaults,
                )
                return created, Start.CREATED
        except IntegrityError:
            continue  # a concurrent worker opened this thread's conversation first: use it
    return thread.get(status__in=Conversation.ACTIVE_STATUSES), Start.NONE


def _conversation_touch(*, conversation: Conversation, at: datetime, now: datetime, customer_wrote: bool) -> None:
    update = {"last_message_at": Greatest(F("last_message_at"), Value(at)), "updated_at": now}
    if customer_wrote:
        # The customer answered: a conversation waiting on them is open again.
        update["status"] = Case(
            When(status=Conversation.Status.PENDING, then=Value(Conversation.Status.OPEN)), default=F("status")
        )
    Conversation.objects.filter(pk=conversation.pk).update(**update)


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
                    url=_clip(Attachment, "url", _attachment_url(attachment.url)),
                    name=_clip(Attachment, "name", attachment.name),
                )
                for attachment in attachments
            )
            return message
    except IntegrityError:
        return None


def _route_after_commit(conversation: Conversation) -> None:
    enqueue_on_commit(conversation_route_task, conversation_id=conversation.pk)


def _new_conversation_route(
    *, conversation: Conversation, channel: Channel, customer: Customer, text: str, now: datetime
) -> None:
    """Route a conversation ingest just opened, in this transaction: it appears assigned, and
    routing has nothing to read back. Routing must never cost ingest its message, so a failure
    is rolled back to a savepoint and the routing task tries again after commit."""
    try:
        with broadcasts_batched(), transaction.atomic():
            new_conversation_route(
                conversation=conversation, platform=channel.platform, first_message=text, customer=customer, now=now
            )
    except Exception:  # noqa: BLE001  (logged; the task and the routing sweep route it again)
        logger.exception("Routing new conversation %s failed; its task will try again", conversation.pk)
        _route_after_commit(conversation)


@transaction.atomic
@broadcasts_batched()
def message_ingest(*, channel: Channel, event: InboundMessage, now: datetime | None = None) -> Message:
    """Store a customer's message once, in its thread's conversation."""
    now = now or timezone.now()
    existing = Message.objects.filter(channel=channel, platform_message_id=event.platform_message_id).first()
    if existing is not None:
        return existing  # redelivery
    customer = customer_identity_upsert(platform=channel.platform, sender=event.sender).customer
    conversation, start = _thread_conversation(
        channel=channel, customer=customer, thread_key=_clip(Conversation, "thread_key", event.thread_key),
        source=event.source, at=event.timestamp, now=now, reopen=True,
        defaults={
            "external_thread_id": _clip(Conversation, "external_thread_id", event.external_thread_id),
            "post_id": _clip(Conversation, "post_id", event.post_id),
            "post_url": _clip(Conversation, "post_url", _web_url(event.post_url)),
            "language": _clip(Conversation, "language", event.language),
        },
    )
    message = _message_create(
        conversation=conversation, channel=channel, platform_message_id=event.platform_message_id,
        attachments=event.attachments, direction=Message.Direction.INBOUND, sender_type=Message.SenderType.CUSTOMER,
        content=event.text, content_type=event.content_type, reply_to_platform_id=event.reply_to_platform_id,
        delivery_status=Message.DeliveryStatus.DELIVERED, platform_timestamp=event.timestamp, created_at=event.timestamp,
    )
    if message is None:
        # A concurrent worker stored this platform message first; that row is the message.
        return Message.objects.get(channel=channel, platform_message_id=event.platform_message_id)
    _conversation_touch(conversation=conversation, at=event.timestamp, now=now, customer_wrote=True)
    sla_on_customer_message(conversation_id=conversation.pk, at=event.timestamp, now=now)
    if start is Start.CREATED:
        _new_conversation_route(conversation=conversation, channel=channel, customer=customer, text=event.text, now=now)
    elif start is Start.REOPENED:
        # Whether the assignee keeps it needs a lock on their row that may wait: that is for
        # routing's own transaction, after this commits. A failed enqueue must not undo ingest.
        _route_after_commit(conversation)
    broadcast_on_commit(
        event_type="message.created", channel_id=channel.pk, conversation_id=conversation.pk, message_id=message.pk
    )
    return message


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
    conversation, _ = _thread_conversation(
        channel=channel, customer=customer, thread_key=_clip(Conversation, "thread_key", event.thread_key),
        source=event.source, at=event.timestamp, now=now, reopen=False,
        defaults={"external_thread_id": _clip(Conversation, "external_thread_id", event.external_thread_id)},
    )
    message = _message_create(
        conversation=conversation, channel=channel, platform_message_id=event.platform_message_id,
        attachments=event.attachments, direction=Message.Direction.OUTBOUND, sender_type=Message.SenderType.AGENT,
        content=event.text, content_type=event.content_type, delivery_status=Message.DeliveryStatus.SENT,
        platform_timestamp=event.timestamp, created_at=event.timestamp,
    )
    if message is None:
        return Message.objects.get(channel=channel, platform_message_id=event.platform_message_id)
    _conversation_touch(conversation=conversation, at=event.timestamp, now=now, customer_wrote=False)
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
