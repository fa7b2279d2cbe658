"""Reply suggestions: the team's past answers, canned replies and knowledge articles most like
what the customer just wrote, from one in-memory index per process.

The database is the truth; the index follows it. Past answers only grow (one per resolved
conversation), so each search first adds the rows newer than the last one seen; canned
replies and articles are few and edited in place, so they are re-read when their
fingerprint changes. Everything works on the embedded default, offline.
"""

import hashlib
import threading
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from assist.language import language_detect
from assist.models import ChannelAssist, KnowledgeArticle, ReplyExample, SuggestionFeedback
from assist.retrieval import LanguageIndexes
from inbox.canned import canned_reply_fill
from inbox.models import CannedReply, Conversation, Message

SUGGESTIONS = 3
# The customer's latest messages that make the query: the question is often split in two.
QUERY_MESSAGES = 3
QUERY_CHARS = 600
Source = SuggestionFeedback.Source


@dataclass(frozen=True)
class Suggestion:
    source: str  # SuggestionFeedback.Source
    source_id: int
    title: str
    text: str  # placeholders filled for the conversation and the agent
    score: float


class SuggestionIndex:
    """The process's index of everything that can be suggested, kept in step with the database."""

    def __init__(self) -> None:
        self.index = LanguageIndexes()
        self._lock = threading.Lock()
        self._last_example = 0
        self._fingerprints: dict[str, str] = {}

    def sync(self) -> None:
        with self._lock:
            self._sync_examples()
            self._sync_small(Source.CANNED, CannedReply.objects.values_list("pk", "title", "body"))
            self._sync_small(
                Source.ARTICLE,
                KnowledgeArticle.objects.filter(is_active=True).values_list("pk", "title", "body", "tags", "language"),
            )

    def _sync_examples(self) -> None:
        rows = (
            ReplyExample.objects.filter(pk__gt=self._last_example)
            .order_by("pk")
            .values_list("pk", "customer_text", "language")
        )
        for pk, customer_text, language in rows.iterator(chunk_size=2000):
            self.index.add((Source.REPLY, pk), customer_text, language=language)
            self._last_example = pk

    def _sync_small(self, source: str, rows) -> None:
        rows = list(rows)
        fingerprint = hashlib.sha256(repr(rows).encode()).hexdigest()
        if self._fingerprints.get(source) == fingerprint:
            return
        for key in [key for key in self.index.row_keys() if key[0] == source]:
            self.index.remove(key)
        for pk, title, body, *rest in rows:
            text = " ".join([title, body, *rest[:1]])
            language = rest[1] if len(rest) > 1 else language_detect(f"{title}. {body}").code
            self.index.add((source, pk), text, language=language)
        self._fingerprints[source] = fingerprint


_index: SuggestionIndex | None = None
_index_lock = threading.Lock()


def suggestion_index() -> SuggestionIndex:
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:
                _index = SuggestionIndex()
    return _index


def ai_assist_enabled(*, channel_id: int) -> bool:
    return ChannelAssist.objects.filter(channel_id=channel_id).values_list("ai_assist_enabled", flat=True).first() is not False


def conversation_query(*, conversation: Conversation) -> str:
    """What the customer wrote last, newest messages first, as the search text."""
    texts = (
        Message.objects.filter(conversation=conversation, sender_type=Message.SenderType.CUSTOMER)
        .exclude(content="")
        .order_by("-created_at", "-id")
        .values_list("content", flat=True)[:QUERY_MESSAGES]
    )
    return " ".join(texts)[:QUERY_CHARS]


def reply_suggestions(*, conversation: Conversation, agent: AbstractBaseUser) -> list[Suggestion]:
    """Up to three replies for the conversation's latest customer messages, in its language,
    filled in for it; none when assist is off for its channel or the customer wrote no text."""
    if not ai_assist_enabled(channel_id=conversation.channel_id):
        return []
    query = conversation_query(conversation=conversation)
    if not query.strip():
        return []
    index = suggestion_index()
    index.sync()
    language = conversation.language or language_detect(query).code
    found = index.index.search(query, limit=SUGGESTIONS, language=language)
    return _resolve(found, conversation=conversation, agent=agent)


def _resolve(found, *, conversation: Conversation, agent: AbstractBaseUser) -> list[Suggestion]:
    ids: dict[str, list[int]] = {}
    for (source, pk), _ in found:
        ids.setdefault(source, []).append(pk)
    rows = {
        (Source.REPLY, e.pk): ("Past reply", e.reply_text)
        for e in ReplyExample.objects.filter(pk__in=ids.get(Source.REPLY, []))
    } | {
        (Source.CANNED, c.pk): (c.title, c.body) for c in CannedReply.objects.filter(pk__in=ids.get(Source.CANNED, []))
    } | {
        (Source.ARTICLE, a.pk): (a.title, a.body)
        for a in KnowledgeArticle.objects.filter(pk__in=ids.get(Source.ARTICLE, []), is_active=True)
    }
    suggestions = []
    seen_texts = set()
    for key, score in found:
        if key not in rows:
            continue  # deleted since the index saw it
        title, body = rows[key]
        text = canned_reply_fill(body=body, conversation=conversation, agent=agent)
        if text in seen_texts:
            continue
        seen_texts.add(text)
        suggestions.append(Suggestion(source=key[0], source_id=key[1], title=title, text=text, score=round(score, 4)))
    return suggestions
