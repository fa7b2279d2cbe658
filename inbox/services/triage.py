"""An agent's changes to a conversation: status, priority, tags, internal notes, read marks,
and sending a failed reply again.

Each runs in one transaction that the SLA hooks join, and tells live consoles on commit. The
caller has already checked that the user may see the conversation (inbox.selectors).
"""

import re
import uuid
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from assist.tasks import conversation_learn_task
from helpdesk.errors import Conflict, DomainError, NotFound
from helpdesk.transactions import enqueue_on_commit
from inbox.broadcast import broadcast_on_commit
from inbox.models import Conversation, ConversationRead, Message, Note
from inbox.services.replies import reply_queue
from integrations.outbound import OutboundAttachment
from routing.services import agent_queues_drain_on_commit
from sla.services.clocks import sla_on_priority_change, sla_on_status_change

# `@username` not preceded by a username character, so an e-mail address is no mention; a
# dot ending the name is the sentence's full stop.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*[\w+-])")


class ThreadHasActiveConversation(Conflict):
    code = "thread_has_active_conversation"


class EmptyNote(DomainError):
    code = "empty_note"


class NotAFailedReply(Conflict):
    code = "not_a_failed_reply"


# Names the client tokens of resent replies: one per failed reply, so a double click resends once.
RESEND_NAMESPACE = uuid.UUID("5b0f6f0e-3c1e-4bda-9d0c-6f1f2c7f1a11")


def _conversation_locked(conversation_id: int) -> Conversation:
    # FOR NO KEY UPDATE, the lock the UPDATE takes anyway and the one the SLA hooks take next:
    # one lock order for every writer of a conversation.
    conversation = (
        Conversation.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise NotFound(f"There is no conversation {conversation_id}.")
    return conversation


def _announce(conversation: Conversation) -> None:
    broadcast_on_commit(
        event_type="conversation.changed",
        channel_id=conversation.channel_id,
        conversation_id=conversation.pk,
    )


@transaction.atomic
def conversation_status_set(
    *, conversation_id: int, status: str, now: datetime | None = None
) -> Conversation:
    """Open, park (pending), resolve or close the conversation; its SLA clocks follow, and an
    assignee who finished it gets room for the next one in their teams' queues."""
    now = now or timezone.now()
    conversation = _conversation_locked(conversation_id)
    if conversation.status == status:
        return conversation
    conversation.status = status
    if status == Conversation.Status.RESOLVED:
        conversation.resolved_at = now
    elif status in Conversation.ACTIVE_STATUSES:
        conversation.resolved_at = None
    conversation.updated_at = now
    try:
        with transaction.atomic():
            conversation.save(update_fields=["status", "resolved_at", "updated_at"])
    except IntegrityError:
        # conversation_one_active_per_thread: the customer wrote again after it was resolved
        # and a newer conversation of the same thread is open.
        raise ThreadHasActiveConversation(
            "A newer conversation of this thread is open: answer there."
        ) from None
    sla_on_status_change(conversation_id=conversation.pk, now=now)
    if status == Conversation.Status.RESOLVED:
        enqueue_on_commit(conversation_learn_task, conversation_id=conversation.pk)  # a new answer to suggest
    if status not in Conversation.ACTIVE_STATUSES and conversation.assignee_id is not None:
        agent_queues_drain_on_commit(agent_id=conversation.assignee_id)
    _announce(conversation)
    return conversation


@transaction.atomic
def conversation_priority_set(
    *, conversation_id: int, priority: str, now: datetime | None = None
) -> Conversation:
    """Change the priority; the SLA targets of the new priority apply from now on."""
    now = now or timezone.now()
    conversation = _conversation_locked(conversation_id)
    if conversation.priority == priority:
        return conversation
    conversation.priority, conversation.updated_at = priority, now
    conversation.save(update_fields=["priority", "updated_at"])
    sla_on_priority_change(conversation_id=conversation.pk, now=now)
    _announce(conversation)
    return conversation


@transaction.atomic
def conversation_tags_set(*, conversation_id: int, tag_ids: list[int]) -> Conversation:
    """Make `tag_ids` the conversation's tags."""
    conversation = _conversation_locked(conversation_id)
    conversation.tags.set(tag_ids)
    _announce(conversation)
    return conversation


def mentioned_usernames(body: str) -> list[str]:
    return list(dict.fromkeys(MENTION.findall(body)))


@transaction.atomic
def note_create(*, conversation_id: int, author: AbstractBaseUser, body: str) -> Note:
    """Add an internal note; the active users it @mentions are named in the broadcast, so
    their consoles notify them."""
    body = body.strip()
    if not body:
        raise EmptyNote("Write the note first.")
    conversation = _conversation_locked(conversation_id)
    note = Note.objects.create(conversation=conversation, author=author, body=body)
    mentioned = get_user_model().objects.filter(
        username__in=mentioned_usernames(body), is_active=True
    )
    broadcast_on_commit(
        event_type="note.created",
        channel_id=conversation.channel_id,
        conversation_id=conversation.pk,
        note_id=note.pk,
        # Events carry ids only, and a string keeps the event a flat mapping of ids.
        mentioned=",".join(str(pk) for pk in mentioned.values_list("pk", flat=True)),
    )
    return note


@transaction.atomic
def conversation_mark_read(*, conversation_id: int, user: AbstractBaseUser) -> ConversationRead:
    """Record that the user has read the conversation up to its newest message."""
    newest = Message.objects.filter(conversation_id=conversation_id).aggregate(newest=Max("pk"))
    read, _ = ConversationRead.objects.update_or_create(
        conversation_id=conversation_id,
        user=user,
        defaults={"last_message_id": newest["newest"] or 0},
    )
    return read


def reply_resend(
    *, conversation: Conversation, message_id: int, author: AbstractBaseUser
) -> Message:
    """Send a failed reply again as a new reply with the same text, attachments and target;
    the failed one stays in the thread with its reason, as the record of what happened."""
    failed = (
        conversation.messages.filter(
            pk=message_id,
            direction=Message.Direction.OUTBOUND,
            delivery_status=Message.DeliveryStatus.FAILED,
        )
        .prefetch_related("attachments")
        .first()
    )
    if failed is None:
        raise NotAFailedReply("Only a reply that failed can be sent again.")
    answered = None
    if failed.reply_to_platform_id:
        answered = conversation.messages.filter(
            platform_message_id=failed.reply_to_platform_id, direction=Message.Direction.INBOUND
        ).first()
    message, _ = reply_queue(
        conversation=conversation,
        author=author,
        text=failed.content,
        client_token=uuid.uuid5(RESEND_NAMESPACE, str(failed.pk)),
        attachments=[OutboundAttachment(type=a.type, url=a.url) for a in failed.attachments.all()],
        reply_to=answered,
        private=failed.reply_kind == Message.ReplyKind.PRIVATE,
    )
    return message


@transaction.atomic(savepoint=False)  # ingest's hot path: join its transaction, no savepoint
def conversations_classification_set(*, classifications: list[tuple[Conversation, str, str]]) -> list[Conversation]:
    """Record each conversation's language and sentiment (as assist found them) on its row and
    on the given instance, which ingest routes next. Return the conversations that changed."""
    changed: dict[tuple[str, str], list[Conversation]] = {}
    for conversation, language, sentiment in classifications:
        if (conversation.language, conversation.sentiment) != (language, sentiment):
            conversation.language, conversation.sentiment = language, sentiment
            changed.setdefault((language, sentiment), []).append(conversation)
    for (language, sentiment), conversations in changed.items():
        Conversation.objects.filter(pk__in=[c.pk for c in conversations]).update(language=language, sentiment=sentiment)
    return [conversation for conversations in changed.values() for conversation in conversations]
