"""What the adapters and the code that calls platform APIs hand each other: a reply going out
(and the parts it is sent as), and conversations and messages fetched back for a sync.

Adapters (integrations/platforms/<name>.py) expose, besides verify and parse:
- `DIALECT`: how the platform words errors and usage (integrations.http.Dialect);
- `reply_check(reply, *, now)`: raise ReplyRefused, before any API call, for a reply the
  platform would refuse (too long, outside the messaging window, unsupported kind);
- `reply_parts(reply)`: the platform messages the reply goes out as, in order;
- `part_send(*, client, account, reply, part)`: send one part, return its platform id;
- `fetch_conversations(*, client, account, since)` and
  `fetch_messages(*, client, account, conversation, cursor)` for history sync.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from helpdesk.errors import DomainError
from integrations.platforms.base import NormalizedEvent


class ReplyRefused(DomainError):
    """A reply the platform would not accept; the message says why, for the agent."""

    code = "reply_refused"


class SyncUnsupported(DomainError):
    code = "sync_unsupported"


@dataclass(frozen=True)
class Account:
    """Who calls the API: the channel's account, its credential and where its API is."""

    channel_id: int
    platform: str
    account_id: str
    credential: str
    base_url: str


@dataclass(frozen=True)
class OutboundAttachment:
    type: str  # one of inbox.models.Attachment.Type values
    url: str


@dataclass(frozen=True)
class OutboundReply:
    """One agent reply, with what the platform needs to place it in the customer's thread."""

    platform: str
    account_id: str
    source: str  # the conversation's: "dm" | "comment" | "mention"
    private: bool  # a private (DM) reply to a public comment
    text: str
    recipient_id: str  # the customer's platform id
    thread_id: str  # the conversation's external thread id (convoId, chat id, comment id...)
    thread_key: str = ""
    post_id: str = ""
    # The customer message answered (a comment, a post, a group message), when there is one,
    # with what it itself answered and when it was written.
    reply_to_id: str = ""
    reply_to_parent_id: str = ""
    reply_to_at: datetime | None = None
    # The customer's newest message in the conversation: messaging windows count from it.
    customer_wrote_at: datetime | None = None
    attachments: tuple[OutboundAttachment, ...] = ()
    # The reply's idempotency key, and when it was queued; `resumed` is True when an earlier
    # attempt may have reached the platform.
    token: str = ""
    queued_at: datetime | None = None
    resumed: bool = False


@dataclass(frozen=True)
class Part:
    """One platform message of a reply: text, or one attachment. Only the first part quotes
    the customer message answered, where the platform shows quotes (Telegram)."""

    text: str = ""
    attachment: OutboundAttachment | None = None
    first: bool = True


@dataclass(frozen=True)
class RemoteConversation:
    """A conversation as the platform lists it, for the multi-account overview and backfill."""

    channel_id: int
    platform: str
    platform_conversation_id: str
    last_activity_at: datetime
    participants: tuple[str, ...] = ()
    snippet: str = ""


@dataclass(frozen=True)
class MessagePage:
    events: list[NormalizedEvent] = field(default_factory=list)
    cursor: str | None = None  # None: no older page


def text_limit_check(text: str, *, limit: int, what: str, length: int | None = None) -> None:
    """Refuse text longer than `limit`, naming the limit (`length` if not counted in characters)."""
    counted = len(text) if length is None else length
    if counted > limit:
        raise ReplyRefused(f"{what} is limited to {limit}; this reply is {counted}.")


def text_split(text: str, *, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at a paragraph, line or word break
    when one falls in the second half of a piece."""
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind(sep) for sep in ("\n\n", "\n", " "))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


def text_and_attachment_parts(reply: OutboundReply, *, text_limit: int) -> list[Part]:
    """Send the text (split to `text_limit`), then each attachment as its own message: the
    convention of platforms whose messages carry text or one attachment (Messenger, Telegram)."""
    parts = [Part(text=piece) for piece in text_split(reply.text, limit=text_limit)]
    parts += [Part(attachment=attachment) for attachment in reply.attachments]
    return [replace(part, first=index == 0) for index, part in enumerate(parts)]


def refuse_attachments(reply: OutboundReply, *, where: str) -> None:
    if reply.attachments:
        raise ReplyRefused(
            f"{where} can't carry attachments from a link: put the link in the text."
        )


def refuse_private(reply: OutboundReply, *, platform: str) -> None:
    if reply.private:
        raise ReplyRefused(f"{platform} has no private replies to public messages.")
