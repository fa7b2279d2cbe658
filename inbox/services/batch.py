"""Customer messages ingested set-wise: a batch (the deliveries a worker took together) costs
a few queries per step, not a few per message.

`messages_ingest` runs these steps in order, each over the whole batch:

1. `_existing_messages`: the platform ids already stored (redelivery) are answered with their row;
2. `_customers_resolve`: every sender's identity in one query, the new ones bulk-inserted;
3. `_conversations_resolve`: every thread's conversations in one query; a resolved one is
   reopened, a missing one bulk-inserted;
4. `_messages_store`: messages and attachments bulk-inserted;
5. `_conversations_touch`: last activity and pending → open, one UPDATE;
6. then the steps that act on the batch's new messages, each receiving the `Arrival`s:
   `_sla_clocks_start`, `_new_conversations_route`, `_arrivals_broadcast`. A step that
   enriches new messages or conversations (language, sentiment, profile fetch, counters) goes
   between `_conversations_touch` and `_sla_clocks_start`, so routing and SLA see its result.

The unique constraints still settle races: a row a concurrent worker committed first makes an
INSERT fail, and the whole batch with it. The caller runs the batch in a transaction it can
drop (`events_ingest`, `message_ingest`) and then takes the events one at a time.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Greatest

from assist.services.classify import messages_classify
from helpdesk.transactions import enqueue_on_commit
from inbox.broadcast import broadcast_on_commit, broadcasts_batched
from inbox.models import Attachment, Conversation, Customer, CustomerIdentity, Message
from inbox.services.sanitise import attachment_url, clip, web_url
from integrations.models import Channel
from integrations.platforms.base import InboundMessage
from routing.services import new_conversation_route
from routing.tasks import conversation_route_task
from sla.services.clocks import sla_on_customer_messages

logger = logging.getLogger(__name__)


class Start(Enum):
    """How a message found its thread's active conversation."""

    NONE = "none"  # it was open or pending already
    CREATED = "created"
    REOPENED = "reopened"


class ThreadRaced(IntegrityError):
    """A concurrent worker changed a thread's conversation under this batch (it reopened or
    closed it first): like a unique constraint's refusal, the batch is taken again."""


@dataclass(eq=False)
class Arrival:
    """One new customer message of a batch, with what ingest found or made for it."""

    channel: Channel
    event: InboundMessage
    customer: Customer | None = None
    conversation: Conversation | None = None
    start: Start = Start.NONE  # CREATED or REOPENED only on the first arrival of its conversation
    message: Message | None = None

    @property
    def thread(self) -> tuple[int, int, str]:
        return self.channel.pk, self.customer.pk, clip(Conversation, "thread_key", self.event.thread_key)


def messages_ingest(*, items: Sequence[tuple[Channel, InboundMessage]], now: datetime) -> list[Message]:
    """Store each customer message once, in its thread's conversation; return each item's
    message (the stored row for a redelivered one).

    Run it inside a transaction that is dropped whole if it raises: a race lost on a unique
    constraint raises IntegrityError after some rows were written.
    """
    existing = _existing_messages(items)
    arrivals: dict[tuple[int, str], Arrival] = {}
    for channel, event in items:
        key = (channel.pk, event.platform_message_id)
        if key not in existing and key not in arrivals:  # the same message twice in a batch is one
            arrivals[key] = Arrival(channel=channel, event=event)
    new = list(arrivals.values())
    if new:
        _customers_resolve(new)
        _conversations_resolve(new, now=now)
        _messages_store(new)
        _conversations_touch(new, now=now)
        # Language and sentiment, which routing rules read.
        messages_classify(messages=[a.message for a in new], conversations=[a.conversation for a in new], now=now)
        _sla_clocks_start(new, now=now)
        _new_conversations_route(new, now=now)
        _arrivals_broadcast(new)
    stored = {key: arrival.message for key, arrival in arrivals.items()}
    return [existing.get(key) or stored[key] for key in ((c.pk, e.platform_message_id) for c, e in items)]


def _existing_messages(items: Sequence[tuple[Channel, InboundMessage]]) -> dict[tuple[int, str], Message]:
    ids_by_channel: dict[int, set[str]] = {}
    for channel, event in items:
        ids_by_channel.setdefault(channel.pk, set()).add(event.platform_message_id)
    match = Q()
    for channel_id, ids in ids_by_channel.items():
        match |= Q(channel_id=channel_id, platform_message_id__in=ids)
    return {(m.channel_id, m.platform_message_id): m for m in Message.objects.filter(match)}


def _identity_fields(arrival: Arrival) -> dict[str, str]:
    sender = arrival.event.sender
    return {
        "handle": clip(CustomerIdentity, "handle", sender.handle),
        "display_name": clip(CustomerIdentity, "display_name", sender.display_name),
        "avatar_url": clip(CustomerIdentity, "avatar_url", web_url(sender.avatar_url)),
    }


def _customers_resolve(arrivals: list[Arrival]) -> None:
    """Find each sender's customer, creating customer and identity on first contact, and keep
    their handle, name and avatar current (the batch's latest values win)."""
    senders: dict[tuple[str, str], dict[str, str]] = {}
    for arrival in arrivals:
        senders[(arrival.channel.platform, arrival.event.sender.external_id)] = _identity_fields(arrival)
    match = Q()
    for platform in {platform for platform, _ in senders}:
        match |= Q(platform=platform, external_id__in=[eid for p, eid in senders if p == platform])
    identities = {
        (identity.platform, identity.external_id): identity
        for identity in CustomerIdentity.objects.select_related("customer").filter(match)
    }
    for key, identity in identities.items():
        changed = {name: value for name, value in senders[key].items() if value and getattr(identity, name) != value}
        if changed:
            CustomerIdentity.objects.filter(pk=identity.pk).update(**changed)
    missing = [key for key in senders if key not in identities]
    if missing:
        customers = Customer.objects.bulk_create(
            Customer(display_name=senders[key]["display_name"] or senders[key]["handle"] or key[1][:255])
            for key in missing
        )
        created = CustomerIdentity.objects.bulk_create(
            CustomerIdentity(customer=customer, platform=platform, external_id=external_id, **senders[(platform, external_id)])
            for customer, (platform, external_id) in zip(customers, missing, strict=True)
        )
        identities.update(((identity.platform, identity.external_id), identity) for identity in created)
    for arrival in arrivals:
        arrival.customer = identities[(arrival.channel.platform, arrival.event.sender.external_id)].customer


def _conversations_resolve(arrivals: list[Arrival], *, now: datetime) -> None:
    """Give each arrival its thread's active conversation: the open or pending one, else the
    resolved one reopened (within the window), else a new one linked to the last."""
    by_thread: dict[tuple[int, int, str], list[Arrival]] = {}
    for arrival in arrivals:
        by_thread.setdefault(arrival.thread, []).append(arrival)
    match = Q()
    for channel_id, customer_id, thread_key in by_thread:
        match |= Q(channel_id=channel_id, customer_id=customer_id, thread_key=thread_key)
    active: dict[tuple[int, int, str], Conversation] = {}
    latest: dict[tuple[int, int, str], Conversation] = {}
    for conversation in Conversation.objects.filter(match).order_by("-created_at", "-id"):
        thread = (conversation.channel_id, conversation.customer_id, conversation.thread_key)
        latest.setdefault(thread, conversation)
        if conversation.status in Conversation.ACTIVE_STATUSES:
            active[thread] = conversation
    new: list[tuple[Conversation, list[Arrival]]] = []
    for thread, thread_arrivals in by_thread.items():
        first = min(thread_arrivals, key=lambda arrival: arrival.event.timestamp)
        conversation, start = active.get(thread), Start.NONE
        if conversation is None and _reopens(latest.get(thread), at=first.event.timestamp):
            conversation, start = _reopen(latest[thread], now=now), Start.REOPENED
        if conversation is None:
            conversation, start = _new_conversation(first, previous=latest.get(thread), now=now), Start.CREATED
            conversation.last_message_at = max(arrival.event.timestamp for arrival in thread_arrivals)
            new.append((conversation, thread_arrivals))
        for arrival in thread_arrivals:
            arrival.conversation = conversation
        first.start = start
    Conversation.objects.bulk_create(conversation for conversation, _ in new)


def _reopens(latest: Conversation | None, *, at: datetime) -> bool:
    return (
        latest is not None
        and latest.status == Conversation.Status.RESOLVED
        and latest.resolved_at is not None
        and at - latest.resolved_at <= settings.CONVERSATION_REOPEN_WINDOW
    )


def _reopen(conversation: Conversation, *, now: datetime) -> Conversation:
    reopened = Conversation.objects.filter(pk=conversation.pk, status=Conversation.Status.RESOLVED).update(
        status=Conversation.Status.OPEN, resolved_at=None, updated_at=now
    )
    if not reopened:
        raise ThreadRaced(f"Conversation {conversation.pk} was reopened or closed meanwhile.")
    conversation.status, conversation.resolved_at, conversation.updated_at = Conversation.Status.OPEN, None, now
    return conversation


def _new_conversation(first: Arrival, *, previous: Conversation | None, now: datetime) -> Conversation:
    event = first.event
    return Conversation(
        channel=first.channel, customer=first.customer, thread_key=first.thread[2], source=event.source,
        previous=previous, created_at=event.timestamp, updated_at=now, last_message_at=event.timestamp,
        external_thread_id=clip(Conversation, "external_thread_id", event.external_thread_id),
        post_id=clip(Conversation, "post_id", event.post_id),
        post_url=clip(Conversation, "post_url", web_url(event.post_url)),
        language=clip(Conversation, "language", event.language),
    )


def _messages_store(arrivals: list[Arrival]) -> None:
    messages = Message.objects.bulk_create(
        Message(
            conversation=arrival.conversation, channel=arrival.channel,
            platform_message_id=arrival.event.platform_message_id, direction=Message.Direction.INBOUND,
            sender_type=Message.SenderType.CUSTOMER, content=arrival.event.text,
            content_type=arrival.event.content_type, reply_to_platform_id=arrival.event.reply_to_platform_id,
            delivery_status=Message.DeliveryStatus.DELIVERED, platform_timestamp=arrival.event.timestamp,
            created_at=arrival.event.timestamp,
        )
        for arrival in arrivals
    )
    for arrival, message in zip(arrivals, messages, strict=True):
        arrival.message = message
    attachments = [
        Attachment(
            message=arrival.message, type=attachment.type,
            url=clip(Attachment, "url", attachment_url(attachment.url)), name=clip(Attachment, "name", attachment.name),
        )
        for arrival in arrivals
        for attachment in arrival.event.attachments
    ]
    if attachments:
        Attachment.objects.bulk_create(attachments)


def _conversations_touch(arrivals: list[Arrival], *, now: datetime) -> None:
    """Move each conversation that existed before the batch to its newest message, and open
    again the ones that were waiting on the customer: one UPDATE for the batch."""
    created = {arrival.conversation.pk for arrival in arrivals if arrival.start is Start.CREATED}
    latest: dict[int, datetime] = {}
    for arrival in arrivals:
        pk = arrival.conversation.pk
        if pk not in created:
            latest[pk] = max(latest.get(pk, arrival.event.timestamp), arrival.event.timestamp)
    if not latest:
        return
    at = Case(*(When(pk=pk, then=Value(value)) for pk, value in latest.items()), output_field=DateTimeField())
    Conversation.objects.filter(pk__in=latest).update(
        last_message_at=Greatest(F("last_message_at"), at),
        updated_at=now,
        status=Case(When(status=Conversation.Status.PENDING, then=Value(Conversation.Status.OPEN)), default=F("status")),
    )
    for arrival in arrivals:
        if arrival.conversation.pk in latest and arrival.conversation.status == Conversation.Status.PENDING:
            arrival.conversation.status = Conversation.Status.OPEN


def _sla_clocks_start(arrivals: list[Arrival], *, now: datetime) -> None:
    earliest: dict[int, datetime] = {}
    for arrival in arrivals:
        pk = arrival.conversation.pk
        earliest[pk] = min(earliest.get(pk, arrival.event.timestamp), arrival.event.timestamp)
    sla_on_customer_messages(arrivals=earliest, now=now)


def _route_after_commit(conversation: Conversation) -> None:
    enqueue_on_commit(conversation_route_task, conversation_id=conversation.pk)


def _new_conversations_route(arrivals: list[Arrival], *, now: datetime) -> None:
    """Route the conversations the batch opened, in its transaction: they appear assigned, and
    routing has nothing to read back. Routing must never cost ingest its messages, so a
    failure is rolled back to one savepoint and the routing task tries each again after commit.

    A reopened conversation is routed by the task after commit: whether its assignee keeps it
    needs a lock on their row that may wait, which is for routing's own transaction."""
    created = [arrival for arrival in arrivals if arrival.start is Start.CREATED]
    for arrival in arrivals:
        if arrival.start is Start.REOPENED:
            _route_after_commit(arrival.conversation)
    if not created:
        return
    try:
        with broadcasts_batched(), transaction.atomic():
            for arrival in created:
                new_conversation_route(
                    conversation=arrival.conversation, platform=arrival.channel.platform,
                    first_message=arrival.event.text, customer=arrival.customer, now=now,
                )
    except Exception:  # noqa: BLE001  (logged; the task and the routing sweep route them again)
        ids = [arrival.conversation.pk for arrival in created]
        logger.exception("Routing new conversations %s failed; their tasks will try again", ids)
        for arrival in created:
            _route_after_commit(arrival.conversation)


def _arrivals_broadcast(arrivals: list[Arrival]) -> None:
    for arrival in arrivals:
        broadcast_on_commit(
            event_type="message.created", channel_id=arrival.channel.pk, conversation_id=arrival.conversation.pk,
            message_id=arrival.message.pk,
        )
