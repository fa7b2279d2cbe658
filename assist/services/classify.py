"""Classifying customer messages as ingest stores them."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from assist.language import language_detect
from assist.models import ConversationInsight, MessageInsight
from assist.sentiment import label_for, sentiment_score
from inbox.models import Conversation, Message

# From the submodule: inbox.services' own ingest imports this module while the package loads.
from inbox.services.triage import conversations_classification_set

# The latest message's share of the conversation's sentiment: the trend follows the last
# two or three messages.
SENTIMENT_RECENCY = 0.5
# Below this summed weight (about one short message) a conversation has no language yet.
LANGUAGE_MIN_EVIDENCE = 0.2
# A message's own language is trusted for its sentiment only when clear; otherwise the
# conversation's language picks the lexicon ("ok grazie" in an Italian conversation).
LANGUAGE_CLEAR = 0.6


def _conversation_language(evidence: dict[str, float]) -> str:
    if not evidence:
        return ""
    code = max(evidence, key=evidence.get)
    return code if evidence[code] >= LANGUAGE_MIN_EVIDENCE else ""


def _insights_locked(conversation_ids: list[int], now: datetime) -> dict[int, ConversationInsight]:
    # Locked in id order: two workers classifying messages of one conversation add their
    # evidence one after the other instead of overwriting each other's.
    found = {
        insight.conversation_id: insight
        for insight in ConversationInsight.objects.select_for_update()
        .filter(conversation_id__in=conversation_ids)
        .order_by("conversation_id")
    }
    return {
        conversation_id: found.get(conversation_id) or ConversationInsight(conversation_id=conversation_id, updated_at=now)
        for conversation_id in conversation_ids
    }


def _classify_one(message: Message, insight: ConversationInsight, fallback_language: str) -> MessageInsight:
    guess = language_detect(message.content)
    if guess.code:
        insight.language_evidence[guess.code] = round(insight.language_evidence.get(guess.code, 0.0) + guess.weight, 4)
    lexicon_language = guess.code if guess.confidence >= LANGUAGE_CLEAR else (
        _conversation_language(insight.language_evidence) or fallback_language or guess.code
    )
    sentiment = sentiment_score(message.content, language=lexicon_language)
    previous = insight.sentiment_score
    insight.sentiment_score = round(
        sentiment.score if not insight.messages_classified
        else SENTIMENT_RECENCY * sentiment.score + (1 - SENTIMENT_RECENCY) * previous, 4
    )
    insight.sentiment_trend = round(insight.sentiment_score - previous, 4) if insight.messages_classified else 0.0
    insight.messages_classified += 1
    return MessageInsight(
        message=message, language=guess.code, language_confidence=guess.confidence,
        sentiment=sentiment.label, sentiment_score=sentiment.score,
    )


@transaction.atomic(savepoint=False)  # ingest's hot path: join its transaction, no savepoint
def messages_classify(
    *, messages: list[Message], conversations: list[Conversation], now: datetime | None = None
) -> list[MessageInsight]:
    """Detect the language and sentiment of new customer messages and update their
    conversations' language and sentiment (on the rows and on `conversations`, the instances
    the caller routes next). Messages without text, from agents, or already classified are
    skipped, so a redelivered batch changes nothing."""
    now = now or timezone.now()
    by_id = {conversation.pk: conversation for conversation in conversations}
    done = set(MessageInsight.objects.filter(message__in=messages).values_list("message_id", flat=True))
    todo = sorted(
        (m for m in messages if m.sender_type == Message.SenderType.CUSTOMER and m.content.strip() and m.pk not in done),
        key=lambda m: (m.created_at, m.pk),
    )
    if not todo:
        return []
    insights = _insights_locked(sorted({m.conversation_id for m in todo}), now)
    created = [
        _classify_one(message, insights[message.conversation_id], by_id[message.conversation_id].language
                      if message.conversation_id in by_id else "")
        for message in todo
    ]
    MessageInsight.objects.bulk_create(created, ignore_conflicts=True)
    for insight in insights.values():
        insight.updated_at = now
    # One statement for new and known conversations alike.
    ConversationInsight.objects.bulk_create(
        insights.values(), update_conflicts=True, unique_fields=["conversation"],
        update_fields=["language_evidence", "sentiment_score", "sentiment_trend", "messages_classified", "updated_at"],
    )
    if missing := [cid for cid in insights if cid not in by_id]:
        by_id.update({c.pk: c for c in Conversation.objects.filter(pk__in=missing)})
    conversations_classification_set(classifications=[
        (by_id[cid], _conversation_language(insight.language_evidence) or by_id[cid].language,
         label_for(insight.sentiment_score))
        for cid, insight in insights.items()
    ])
    for conversation in conversations:  # other instances of the same rows, if the caller holds any
        conversation.language, conversation.sentiment = by_id[conversation.pk].language, by_id[conversation.pk].sentiment
    return created

