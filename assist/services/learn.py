"""Learning from resolved conversations, and what agents do with suggestions."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from assist.models import ReplyExample, SuggestionFeedback
from inbox.models import Conversation, Message

# Of a resolved conversation, the customer messages before the agent's last reply that make
# its question.
LEARN_MESSAGES = 3


@transaction.atomic
def conversation_learn(*, conversation_id: int) -> ReplyExample | None:
    """Keep a resolved conversation's last agent reply, with what the customer wrote before it,
    as an answer to suggest again. Replaces what an earlier resolution of it kept; None when it
    is not resolved or has no text reply to a text question."""
    conversation = Conversation.objects.filter(pk=conversation_id, status=Conversation.Status.RESOLVED).first()
    if conversation is None:
        return None
    texts = Message.objects.filter(conversation=conversation).exclude(content="").order_by("-created_at", "-id")
    reply = texts.filter(sender_type=Message.SenderType.AGENT, direction=Message.Direction.OUTBOUND).first()
    if reply is None:
        return None
    asked = list(
        texts.filter(sender_type=Message.SenderType.CUSTOMER, created_at__lte=reply.created_at)
        .values_list("content", flat=True)[:LEARN_MESSAGES]
    )
    ReplyExample.objects.filter(conversation=conversation).delete()
    if not asked:
        return None
    return ReplyExample.objects.create(
        conversation=conversation, channel_id=conversation.channel_id, language=conversation.language,
        customer_text=" ".join(reversed(asked)), reply_text=reply.content,
        resolved_at=conversation.resolved_at or conversation.updated_at,
    )


def suggestion_feedback_record(
    *, conversation: Conversation, agent, source: str, source_id: int, action: str, now: datetime | None = None
) -> SuggestionFeedback:
    """Record what the agent did with a suggestion."""
    return SuggestionFeedback.objects.create(
        conversation=conversation, agent=agent, source=source, source_id=source_id, action=action,
        created_at=now or timezone.now(),
    )


def conversations_learn_missed(*, within: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    """Learn from the conversations resolved lately that have no example (their task was lost
    with the broker); return how many were looked at."""
    now = now or timezone.now()
    missed = list(
        Conversation.objects.filter(status=Conversation.Status.RESOLVED, resolved_at__gte=now - within)
        .exclude(pk__in=ReplyExample.objects.values("conversation_id"))
        .values_list("pk", flat=True)[:500]
    )
    for conversation_id in missed:
        conversation_learn(conversation_id=conversation_id)
    return len(missed)
