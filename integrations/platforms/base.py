"""The normalized events every platform parser produces, and the errors a webhook answers with.

A parser turns one raw delivery (which may batch several entries) into a list of these
events; `inbox.services.ingest` ingests them without knowing which platform they came from.
"""

from dataclasses import dataclass
from datetime import datetime

from helpdesk.errors import DomainError


class WebhookRejected(DomainError):
    """A delivery that is refused and not stored."""


class BadSignature(WebhookRejected):
    status, code = 401, "bad_signature"


class MalformedPayload(WebhookRejected):
    status, code = 400, "malformed_payload"


class PayloadTooLarge(WebhookRejected):
    status, code = 413, "payload_too_large"


class UnknownChannel(WebhookRejected):
    status, code = 404, "unknown_channel"


class HandshakeFailed(WebhookRejected):
    status, code = 403, "handshake_failed"


@dataclass(frozen=True)
class Sender:
    external_id: str
    handle: str = ""
    display_name: str = ""
    avatar_url: str = ""


@dataclass(frozen=True)
class Attachment:
    type: str  # one of inbox.models.Attachment.Type values
    url: str = ""
    name: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message: a DM, a public comment (or a reply to one), or a mention."""

    account_id: str  # the channel's account id, as named in the event
    platform_message_id: str
    source: str  # "dm" | "comment" | "mention"
    sender: Sender
    timestamp: datetime
    text: str = ""
    content_type: str = "text"  # one of inbox.models.Message.ContentType values
    attachments: tuple[Attachment, ...] = ()
    # "" for DMs; the post / thread root / group chat id for public threads.
    thread_key: str = ""
    # The platform's id of the thread to answer in (convoId, chat id, comment id, ...).
    external_thread_id: str = ""
    post_id: str = ""
    post_url: str = ""
    reply_to_platform_id: str = ""
    language: str = ""


@dataclass(frozen=True)
class OutboundEcho:
    """A message the account itself sent (our reply or one sent from the platform's own app)."""

    account_id: str
    platform_message_id: str
    recipient: Sender
    timestamp: datetime
    text: str = ""
    content_type: str = "text"
    attachments: tuple[Attachment, ...] = ()
    thread_key: str = ""
    external_thread_id: str = ""
    source: str = "dm"
    # What the sending app attached to the message (Meta `message.metadata`), e.g. our own tag.
    metadata: str = ""


@dataclass(frozen=True)
class StatusReceipt:
    """Delivery or read receipt for messages we sent: by id, or up to a watermark time."""

    account_id: str
    status: str  # "delivered" | "read"
    timestamp: datetime | None = None
    platform_message_ids: tuple[str, ...] = ()
    watermark: datetime | None = None
    # The customer whose thread the watermark applies to.
    customer_external_id: str = ""


@dataclass(frozen=True)
class MessageEdited:
    account_id: str
    platform_message_id: str
    text: str
    timestamp: datetime | None = None


@dataclass(frozen=True)
class MessageDeleted:
    account_id: str
    platform_message_id: str
    timestamp: datetime | None = None


@dataclass(frozen=True)
class Ignored:
    """An event stored but not acted on (reactions, typing, likes, follows, unknown types)."""

    account_id: str
    reason: str


NormalizedEvent = InboundMessage | OutboundEcho | StatusReceipt | MessageEdited | MessageDeleted | Ignored
