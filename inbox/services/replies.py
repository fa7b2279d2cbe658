"""Agent replies: queued as a pending outbound message, sent by a task through the channel's
adapter, then marked sent with the platform's id, or failed with a reason the agent can read.

A reply is never silently dropped and never sent twice where the platform lets that be
checked: the id of every part the platform accepted is committed at once (`part_ids`), and
a retried send resumes after them; a send that crashed after the platform accepted it finds
them and only marks the reply sent. Delivery and read receipts then move the status on
(`inbox.services.receipt_apply`).
"""

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from helpdesk.errors import Conflict, DomainError
from helpdesk.metrics import REPLY_OUTCOMES
from helpdesk.transactions import enqueue_on_commit, on_commit_call
from inbox.broadcast import broadcast_on_commit
from inbox.models import Attachment, Conversation, CustomerIdentity, Message
from integrations.http import CredentialsRejected, PlatformRefused
from integrations.outbound import OutboundAttachment, OutboundReply, ReplyRefused
from integrations.platforms import adapter_for
from integrations.sending import channel_attention_flag, reply_deliver

logger = logging.getLogger(__name__)

REPLY_MAX_CHARACTERS = 20000
REPLY_MAX_ATTACHMENTS = 10
# Long enough for every retry the client makes inline and its timeouts; a worker that died
# while sending frees the reply after this.
SEND_LOCK_SECONDS = 300
_URL = URLValidator(schemes=["http", "https"])
ATTACHMENT_TYPES = set(Attachment.Type.values)


class ReplyInvalid(DomainError):
    code = "reply_invalid"


class ReplyTokenReused(Conflict):
    code = "client_token_reused"


def _attachments_clean(attachments: Sequence[OutboundAttachment]) -> tuple[OutboundAttachment, ...]:
    if len(attachments) > REPLY_MAX_ATTACHMENTS:
        raise ReplyInvalid(f"A reply carries at most {REPLY_MAX_ATTACHMENTS} attachments.")
    max_url = Attachment._meta.get_field("url").max_length
    for attachment in attachments:
        try:
            _URL(attachment.url)
        except ValidationError:
            raise ReplyInvalid(
                f"Attachment URL {attachment.url[:100]!r} is not an http(s) URL."
            ) from None
        if len(attachment.url) > max_url:
            raise ReplyInvalid(f"An attachment URL is longer than {max_url} characters.")
        if attachment.type not in ATTACHMENT_TYPES:
            raise ReplyInvalid(
                f"Unknown attachment type {attachment.type!r}: use one of {', '.join(sorted(ATTACHMENT_TYPES))}."
            )
    return tuple(attachments)


def _answered_message(
    conversation: Conversation, reply_to: Message | None, *, private: bool
) -> Message | None:
    """Return the customer message the reply answers: the one chosen, or in a public thread
    (and in a Telegram group) the customer's newest."""
    if reply_to is not None:
        if (
            reply_to.conversation_id != conversation.pk
            or reply_to.direction != Message.Direction.INBOUND
        ):
            raise ReplyInvalid("A reply answers a customer message of the same conversation.")
        return reply_to
    if conversation.source == Conversation.Source.DM and not private:
        return None
    return (
        conversation.messages.filter(
            direction=Message.Direction.INBOUND, platform_message_id__isnull=False
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _outbound_reply(
    *,
    conversation: Conversation,
    text: str,
    attachments: tuple[OutboundAttachment, ...],
    answered: Message | None,
    private: bool,
    token: str,
    queued_at: datetime,
    resumed: bool,
) -> OutboundReply:
    """Describe the reply for the adapter, from the conversation as stored."""
    channel = conversation.channel
    recipient = (
        CustomerIdentity.objects.filter(
            customer_id=conversation.customer_id, platform=channel.platform
        )
        .values_list("external_id", flat=True)
        .first()
    )
    customer_wrote_at = (
        conversation.messages.filter(direction=Message.Direction.INBOUND)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return OutboundReply(
        platform=channel.platform,
        account_id=channel.account_id,
        source=conversation.source,
        private=private,
        text=text,
        recipient_id=recipient or conversation.external_thread_id,
        thread_id=conversation.external_thread_id,
        thread_key=conversation.thread_key,
        post_id=conversation.post_id,
        reply_to_id=answered.platform_message_id if answered else "",
        reply_to_parent_id=answered.reply_to_platform_id if answered else "",
        reply_to_at=answered.created_at if answered else None,
        customer_wrote_at=customer_wrote_at,
        attachments=attachments,
        token=token,
        queued_at=queued_at,
        resumed=resumed,
    )


@transaction.atomic
def reply_queue(
    *,
    conversation: Conversation,
    author: AbstractBaseUser,
    text: str,
    client_token: UUID,
    attachments: Sequence[OutboundAttachment] = (),
    reply_to: Message | None = None,
    private: bool = False,
    now: datetime | None = None,
) -> tuple[Message, bool]:
    """Commit the reply as a pending outbound message and have it sent after commit; return
    it and whether it was created. The same `client_token` again returns the first message.

    Raises ReplyInvalid or ReplyRefused (400, nothing stored) for a reply that can't go out.
    """
    now = now or timezone.now()
    existing = Message.objects.filter(client_token=client_token).first()
    if existing is not None:
        if existing.conversation_id != conversation.pk:
            raise ReplyTokenReused(
                "This client_token was used for a reply in another conversation."
            )
        return existing, False
    text = text.strip()
    attachments = _attachments_clean(attachments)
    if not text and not attachments:
        raise ReplyInvalid("A reply needs text or an attachment.")
    if len(text) > REPLY_MAX_CHARACTERS:
        raise ReplyInvalid(
            f"A reply is limited to {REPLY_MAX_CHARACTERS} characters; this one is {len(text)}."
        )
    if not conversation.channel.is_active:
        raise ReplyInvalid(
            f"The channel {conversation.channel.name!r} is inactive: it sends nothing."
        )
    if private and conversation.source != Conversation.Source.COMMENT:
        raise ReplyInvalid("A private reply answers a public comment.")
    answered = _answered_message(conversation, reply_to, private=private)
    if private and answered is None:
        raise ReplyInvalid("There is no customer comment to answer privately.")
    if private and _private_reply_exists(conversation, answered):
        raise ReplyRefused(
            "This comment already has a private reply: a platform allows one per comment."
        )
    reply = _outbound_reply(
        conversation=conversation,
        text=text,
        attachments=attachments,
        answered=answered,
        private=private,
        token=str(client_token),
        queued_at=now,
        resumed=False,
    )
    adapter_for(conversation.channel.platform).reply_check(reply, now=now)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                channel=conversation.channel,
                direction=Message.Direction.OUTBOUND,
                sender_type=Message.SenderType.AGENT,
                author=author,
                content=text,
                content_type=Message.ContentType.TEXT
                if text
                else _content_type(attachments[0].type),
                reply_to_platform_id=reply.reply_to_id,
                delivery_status=Message.DeliveryStatus.PENDING,
                created_at=now,
                client_token=client_token,
                reply_kind=Message.ReplyKind.PRIVATE if private else Message.ReplyKind.THREAD,
            )
            Attachment.objects.bulk_create(
                Attachment(message=message, type=attachment.type, url=attachment.url)
                for attachment in attachments
            )
    except IntegrityError:
        # A concurrent request with the same client_token committed first: that is the reply.
        return Message.objects.get(client_token=client_token), False
    broadcast_on_commit(
        event_type="message.created",
        channel_id=message.channel_id,
        conversation_id=conversation.pk,
        message_id=message.pk,
    )
    # If the broker is down the reply stays pending and the sweeper sends it.
    _send_enqueue_on_commit(message.pk)
    return message, True


def _content_type(attachment_type: str) -> str:
    return (
        attachment_type
        if attachment_type in Message.ContentType.values
        else Message.ContentType.ATTACHMENT
    )


def _private_reply_exists(conversation: Conversation, answered: Message) -> bool:
    return (
        Message.objects.filter(
            channel=conversation.channel,
            reply_kind=Message.ReplyKind.PRIVATE,
            reply_to_platform_id=answered.platform_message_id,
        )
        .exclude(delivery_status=Message.DeliveryStatus.FAILED)
        .exists()
    )


def _send_enqueue_on_commit(message_id: int) -> None:
    from inbox.tasks import reply_send_task  # inbox.tasks imports this module

    enqueue_on_commit(reply_send_task, message_id=message_id)


@transaction.atomic
def _send_claim(message_id: int) -> Message | None:
    """Count one more attempt at a pending reply; return it, or None if it is not pending."""
    message = (
        Message.objects.select_for_update()
        .select_related("conversation__channel")
        .filter(
            pk=message_id,
            direction=Message.Direction.OUTBOUND,
            delivery_status=Message.DeliveryStatus.PENDING,
        )
        .first()
    )
    if message is None:
        return None
    message.send_attempts += 1
    Message.objects.filter(pk=message_id).update(send_attempts=message.send_attempts)
    return message


def _parts_record(message_id: int, ids: list[str]) -> None:
    # Committed on its own, the moment the platform accepted a part: whatever happens next,
    # a retried send knows that part went out.
    Message.objects.filter(pk=message_id).update(part_ids=ids)


def reply_send(*, message_id: int, now: datetime | None = None, client=None) -> str | None:
    """Send a pending reply; return its new status (None: nothing to do).

    Transient platform errors (PlatformUnavailable, RateLimited) propagate for the task to
    retry; anything permanent fails the reply with its reason. Runs no transaction around
    the platform calls. `client` replaces the channel's PlatformClient (tests, benchmarks).
    """
    # One sender at a time per reply: a redelivered or swept task must not send in parallel.
    lock = f"inbox.reply-send:{message_id}"
    if not cache.add(lock, 1, timeout=SEND_LOCK_SECONDS):
        return None
    try:
        message = _send_claim(message_id)
        if message is None:
            return None
        now = now or timezone.now()
        conversation = message.conversation
        reply = _outbound_reply(
            conversation=conversation,
            text=message.content,
            attachments=tuple(
                OutboundAttachment(type=a.type, url=a.url)
                for a in message.attachments.order_by("id")
            ),
            answered=_answered_by_id(conversation, message.reply_to_platform_id),
            private=message.reply_kind == Message.ReplyKind.PRIVATE,
            token=str(message.client_token or message.pk),
            queued_at=message.created_at,
            resumed=message.send_attempts > 1,
        )
        try:
            ids = reply_deliver(
                channel=conversation.channel,
                reply=reply,
                sent_ids=list(message.part_ids),
                record=partial(_parts_record, message_id),
                now=now,
                client=client,
            )
        except ReplyRefused as exc:
            return reply_fail(message_id=message_id, reason=exc.message)
        except CredentialsRejected as exc:
            channel_attention_flag(channel_id=conversation.channel_id, reason=exc.message)
            return reply_fail(message_id=message_id, reason=exc.message)
        except PlatformRefused as exc:
            return reply_fail(message_id=message_id, reason=exc.message)
        return reply_mark_sent(message_id=message_id, platform_message_id=ids[0], now=now)
    finally:
        cache.delete(lock)


def _answered_by_id(conversation: Conversation, platform_message_id: str) -> Message | None:
    if not platform_message_id:
        return None
    return conversation.messages.filter(platform_message_id=platform_message_id).first()


@transaction.atomic
def reply_mark_sent(
    *, message_id: int, platform_message_id: str, now: datetime | None = None
) -> str:
    """Record that the platform accepted the reply: its id, sent (unless a receipt already
    moved it further), the conversation's first response, and the SLA's response clock."""
    from sla.services.clocks import sla_on_agent_reply

    now = now or timezone.now()
    message = Message.objects.select_for_update().get(pk=message_id)
    # The platform's echo of this reply may have been stored first, as a message of its own
    # (it carried the id before this transaction did): that row is this reply.
    Message.objects.filter(
        channel_id=message.channel_id,
        platform_message_id=platform_message_id,
        direction=Message.Direction.OUTBOUND,
    ).exclude(pk=message_id).delete()
    Message.objects.filter(pk=message_id).update(
        platform_message_id=platform_message_id,
        platform_timestamp=now,
        failure_reason="",
        delivery_status=Case(
            When(
                delivery_status=Message.DeliveryStatus.PENDING,
                then=Value(Message.DeliveryStatus.SENT),
            ),
            default=F("delivery_status"),
        ),
    )
    Conversation.objects.filter(pk=message.conversation_id).update(
        last_message_at=Greatest(F("last_message_at"), Value(now)), updated_at=now
    )
    Conversation.objects.filter(pk=message.conversation_id, first_response_at__isnull=True).update(
        first_response_at=now
    )
    sla_on_agent_reply(message_id=message_id, sent_at=now, now=now)
    on_commit_call(REPLY_OUTCOMES.labels("sent").inc)
    broadcast_on_commit(
        event_type="message.status",
        channel_id=message.channel_id,
        conversation_id=message.conversation_id,
        message_id=message_id,
    )
    return Message.objects.filter(pk=message_id).values_list("delivery_status", flat=True).get()


@transaction.atomic
def reply_fail(*, message_id: int, reason: str) -> str | None:
    """Fail a pending reply with a reason the agent can read; return the new status."""
    failed = Message.objects.filter(
        pk=message_id, delivery_status=Message.DeliveryStatus.PENDING
    ).update(delivery_status=Message.DeliveryStatus.FAILED, failure_reason=reason[:500])
    if not failed:
        return None
    on_commit_call(REPLY_OUTCOMES.labels("failed").inc)
    message = Message.objects.only("channel_id", "conversation_id").get(pk=message_id)
    logger.info("Reply %s failed: %s", message_id, reason)
    broadcast_on_commit(
        event_type="message.status",
        channel_id=message.channel_id,
        conversation_id=message.conversation_id,
        message_id=message_id,
    )
    return Message.DeliveryStatus.FAILED


def replies_stuck(*, now: datetime | None = None) -> list[int]:
    """Return pending replies no task ever started on (the broker was down when they were
    queued), for the sweeper to enqueue. A task that died mid-send is redelivered by the
    broker (acks_late), and one waiting to retry must keep its countdown: neither is here."""
    now = now or timezone.now()
    return list(
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND,
            delivery_status=Message.DeliveryStatus.PENDING,
            send_attempts=0,
            created_at__lte=now - settings.REPLY_SWEEP_AFTER,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
