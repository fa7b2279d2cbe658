"""Meta webhooks: Messenger and Page feed comments (`object: page`), Instagram DMs, comments
and mentions (`object: instagram`). See tests/fixtures/platforms/meta/FORMATS.md.

A delivery batches `entry[]` items, one per Page or Instagram account; each carries
`messaging[]`/`standby[]` (message events, times in ms) or `changes[]` (feed, comments,
mentions, times in seconds).
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial

from django.http import HttpResponse

from integrations.platforms import parsing, signing
from integrations.platforms.base import (
    Attachment,
    HandshakeFailed,
    Ignored,
    InboundMessage,
    MalformedPayload,
    MessageDeleted,
    MessageEdited,
    NormalizedEvent,
    OutboundEcho,
    Sender,
    StatusReceipt,
)
from integrations.platforms.timeconv import from_unix_ms, from_unix_seconds

SIGNATURE_HEADER = "X-Hub-Signature-256"

# Meta attachment type -> Attachment.type. Link shares come as `fallback` (Messenger) or
# `share` (Instagram); a mentioned story is a link to it. Anything unknown is kept as a file.
ATTACHMENT_TYPES = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "file",
    "reel": "video",
    "ig_reel": "video",
    "fallback": "link",
    "share": "link",
    "story_mention": "link",
}


def verify(*, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Check `X-Hub-Signature-256: sha256=<hex>`, the app secret's HMAC of the raw body."""
    # Meta sends lowercase hex; a proxy that changes the case must not break the check.
    received = signing.header_value(headers, SIGNATURE_HEADER).lower()
    return signing.equal(received, signature_headers(body=body, secret=secret)[SIGNATURE_HEADER])


def signature_headers(*, body: bytes, secret: str) -> dict[str, str]:
    """Return the signature header Meta sends with `body` (for the simulator and tests)."""
    return {SIGNATURE_HEADER: "sha256=" + signing.hmac_sha256(secret, body).hex()}


def handshake(
    *, params: Mapping[str, str], verify_tokens: list[str], secrets: list[str]
) -> HttpResponse:
    """Answer the subscription check with the raw `hub.challenge` if the verify token is ours.

    Meta's check proves the verify token only, so `secrets` is not used.
    """
    token = params.get("hub.verify_token", "")
    challenge = params.get("hub.challenge", "")
    if params.get("hub.mode") != "subscribe" or not challenge:
        raise HandshakeFailed("Expected hub.mode=subscribe and a hub.challenge.")
    if not any(signing.equal(token, candidate) for candidate in verify_tokens):
        raise HandshakeFailed("Unknown hub.verify_token.")
    return HttpResponse(challenge, content_type="text/plain")


def account_ids(payload: dict) -> set[str]:
    """Return the Page and Instagram account ids the delivery's entries are for."""
    return {str(entry["id"]) for entry in _entries(payload) if "id" in entry}


def parse(payload: dict, *, account_id: str = "") -> list[NormalizedEvent]:
    """Turn one delivery, with all its entries, into normalized events."""
    events: list[NormalizedEvent] = []
    for entry in _entries(payload):
        account = str(entry.get("id") or account_id)
        for key in ("messaging", "standby"):
            events.extend(
                parsing.guarded(
                    partial(_messaging_event, item, account),
                    account_id=account,
                    kind="messaging event",
                )
                for item in parsing.object_list(entry, key)
            )
        events.extend(
            parsing.guarded(
                partial(_change_event, change, entry, account),
                account_id=account,
                kind=f"{change.get('field')} change",
            )
            for change in _changes(entry)
        )
    return events


def _entries(payload: dict) -> list[dict]:
    if not isinstance(payload, dict) or "entry" not in payload:
        raise MalformedPayload("A Meta delivery is an object with an `entry` list.")
    return parsing.object_list(payload, "entry")


def _changes(entry: dict) -> list[dict]:
    # Instagram API with Instagram Login documents a flat entry (`field` and `value` on the
    # entry itself, no `changes` list) besides the usual shape.
    if "field" in entry and "changes" not in entry:
        return [entry]
    return parsing.object_list(entry, "changes")


# Messaging events


def _messaging_event(event: dict, account: str) -> NormalizedEvent:
    for key, build in MESSAGING_EVENTS.items():
        if key in event:
            return build(event, account)
    kind = next((key for key in event if key not in ("sender", "recipient", "timestamp")), "empty")
    return Ignored(account_id=account, reason=f"messaging {kind}")


def _message(event: dict, account: str) -> NormalizedEvent:
    message = event["message"]
    mid = str(message["mid"])
    timestamp = from_unix_ms(event["timestamp"])
    if message.get("is_deleted"):
        return MessageDeleted(account_id=account, platform_message_id=mid, timestamp=timestamp)
    if message.get("is_unsupported"):
        return Ignored(account_id=account, reason="unsupported message")
    customer = _customer_id(event, account)
    text = message.get("text", "")
    attachments = tuple(_attachment(item) for item in message.get("attachments", []))
    content_type = parsing.content_type_for(text, attachments)
    if message.get("is_echo"):
        return OutboundEcho(
            account_id=account,
            platform_message_id=mid,
            recipient=Sender(external_id=customer),
            timestamp=timestamp,
            text=text,
            content_type=content_type,
            attachments=attachments,
            external_thread_id=customer,
            metadata=message.get("metadata", ""),
        )
    return InboundMessage(
        account_id=account,
        platform_message_id=mid,
        source="dm",
        sender=Sender(external_id=customer),
        timestamp=timestamp,
        text=text,
        content_type=content_type,
        attachments=attachments,
        external_thread_id=customer,
        # A story reply has `reply_to.story` instead of a message id.
        reply_to_platform_id=str(message.get("reply_to", {}).get("mid", "")),
    )


def _attachment(item: dict) -> Attachment:
    payload = item.get("payload") or {}
    # A sticker arrives as an image whose payload names the sticker.
    kind = "sticker" if "sticker_id" in payload else ATTACHMENT_TYPES.get(item.get("type"), "file")
    # `fallback` link shares may have no payload; their URL and title sit on the attachment.
    return Attachment(
        type=kind, url=payload.get("url") or item.get("url", ""), name=item.get("title", "")
    )


def _delivery(event: dict, account: str) -> StatusReceipt:
    delivery = event["delivery"]
    return StatusReceipt(
        account_id=account,
        status="delivered",
        timestamp=_optional_ms(event.get("timestamp")),
        platform_message_ids=tuple(str(mid) for mid in delivery.get("mids") or ()),
        watermark=_optional_ms(delivery.get("watermark")),
        customer_external_id=_customer_id(event, account),
    )


def _read(event: dict, account: str) -> StatusReceipt:
    # Messenger's `read` names a watermark; Instagram's `read`/`messaging_seen` names a mid.
    read = event.get("read") or event["messaging_seen"]
    mid = read.get("mid")
    return StatusReceipt(
        account_id=account,
        status="read",
        timestamp=_optional_ms(event.get("timestamp")),
        platform_message_ids=(str(mid),) if mid else (),
        watermark=_optional_ms(read.get("watermark")),
        customer_external_id=_customer_id(event, account),
    )


def _edit(event: dict, account: str) -> MessageEdited:
    edit = event["message_edit"]
    return MessageEdited(
        account_id=account,
        platform_message_id=str(edit["mid"]),
        text=edit.get("text", ""),
        timestamp=_optional_ms(event.get("timestamp")),
    )


MESSAGING_EVENTS: dict[str, Callable[[dict, str], NormalizedEvent]] = {
    "message": _message,
    "delivery": _delivery,
    "read": _read,
    "messaging_seen": _read,
    "message_edit": _edit,
}


def _customer_id(event: dict, account: str) -> str:
    """Return the participant who is not the account: the sender, or the recipient of an echo."""
    sender = str(event["sender"]["id"])
    return str(event["recipient"]["id"]) if sender == account else sender


def _optional_ms(value: int | str | None) -> datetime | None:
    return None if value is None else from_unix_ms(value)


# Changes: Page feed and Instagram comments and mentions


def _change_event(change: dict, entry: dict, account: str) -> NormalizedEvent:
    field, value = change.get("field"), change["value"]
    if field == "feed":
        return _feed_event(value, account)
    # Instagram comments and mentions carry no time of their own; the entry's is when Meta
    # sent them.
    if field in ("comments", "live_comments"):
        return _instagram_comment(value, account, from_unix_seconds(entry["time"]))
    if field == "mentions":
        return _instagram_mention(value, account, from_unix_seconds(entry["time"]))
    return Ignored(account_id=account, reason=f"{field} change")


def _feed_event(value: dict, account: str) -> NormalizedEvent:
    item, verb = value.get("item"), value.get("verb")
    if item != "comment":
        return Ignored(account_id=account, reason=f"feed {item} {verb}")
    if verb == "add":
        return _feed_comment(value, account)
    comment_id = str(value["comment_id"])
    # `remove` events carry no `created_time`.
    created = value.get("created_time")
    timestamp = None if created is None else from_unix_seconds(created)
    if verb == "remove":
        return MessageDeleted(
            account_id=account, platform_message_id=comment_id, timestamp=timestamp
        )
    if verb == "edited":
        return MessageEdited(
            account_id=account,
            platform_message_id=comment_id,
            text=value.get("message", ""),
            timestamp=timestamp,
        )
    return Ignored(account_id=account, reason=f"feed comment {verb}")


def _feed_comment(value: dict, account: str) -> NormalizedEvent:
    # Older payloads name the author with `sender_id`/`sender_name` instead of `from`.
    author = value.get("from") or {"id": value["sender_id"], "name": value.get("sender_name")}
    author_id = str(author["id"])
    if author_id == account:
        # The Page's own comments arrive too. The event doesn't say which customer they
        # answer, so they can't be filed as an echo in a customer's thread.
        return Ignored(account_id=account, reason="page's own comment")
    comment_id, post_id = str(value["comment_id"]), str(value["post_id"])
    # A top-level comment's parent is the post; a reply's parent is the comment it answers.
    parent_id = str(value.get("parent_id") or post_id)
    return InboundMessage(
        account_id=account,
        platform_message_id=comment_id,
        source="comment",
        sender=Sender(external_id=author_id, display_name=author.get("name") or ""),
        timestamp=from_unix_seconds(value["created_time"]),
        text=value.get("message", ""),
        thread_key=post_id,
        external_thread_id=comment_id,
        post_id=post_id,
        post_url=f"https://www.facebook.com/{post_id}",
        reply_to_platform_id="" if parent_id == post_id else parent_id,
    )


def _instagram_comment(value: dict, account: str, sent_at: datetime) -> NormalizedEvent:
    author_id = str(value["from"]["id"])
    if author_id == account:
        return Ignored(account_id=account, reason="account's own comment")
    comment_id, media_id = str(value["id"]), str(value["media"]["id"])
    return InboundMessage(
        account_id=account,
        platform_message_id=comment_id,
        source="comment",
        sender=Sender(external_id=author_id, handle=value["from"].get("username", "")),
        timestamp=sent_at,
        text=value.get("text", ""),
        thread_key=media_id,
        external_thread_id=comment_id,
        post_id=media_id,
        reply_to_platform_id=str(value.get("parent_id", "")),
    )


MENTION_AUTHOR_PREFIX = "unknown-mention-author:"


def _instagram_mention(value: dict, account: str, sent_at: datetime) -> InboundMessage:
    media_id = str(value["media_id"])
    mention_id = str(value.get("comment_id") or media_id)
    # A mention names ids only: its text and author must be fetched with the Graph API
    # (`mentioned_comment` / `mentioned_media`). Until then the author is a placeholder
    # unique to this mention, so mentions by different people are never merged into one
    # customer.
    return InboundMessage(
        account_id=account,
        platform_message_id=mention_id,
        source="mention",
        sender=Sender(external_id=f"{MENTION_AUTHOR_PREFIX}{mention_id}", display_name="Instagram mention"),
        timestamp=sent_at,
        thread_key=media_id,
        external_thread_id=mention_id,
        post_id=media_id,
    )
