"""Meta webhooks: Messenger and Page feed comments (`object: page`), Instagram DMs, comments
and mentions (`object: instagram`). See tests/fixtures/platforms/meta/FORMATS.md.

A delivery batches `entry[]` items, one per Page or Instagram account; each carries
`messaging[]`/`standby[]` (message events, times in ms) or `changes[]` (feed, comments,
mentions, times in seconds).
"""

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial

from django.http import HttpResponse

from integrations.http import Dialect, ErrorKind, ErrorReading, PlatformClient, kind_for_status
from integrations.outbound import (
    Account,
    MessagePage,
    OutboundReply,
    Part,
    RemoteConversation,
    ReplyRefused,
    refuse_attachments,
    text_and_attachment_parts,
    text_limit_check,
)
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
from integrations.platforms.timeconv import from_iso, from_unix_ms, from_unix_seconds

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


# Replies (Send API, comment replies, private replies) and history, over the Graph API.

LABELS = {"facebook": "Facebook", "instagram": "Instagram"}
# A reply answers the customer's last message within 24 hours (messaging type RESPONSE), or
# up to 7 days later as a person, with the HUMAN_AGENT tag; later, Meta refuses it.
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
# One private reply per comment, within 7 days of it.
PRIVATE_REPLY_WINDOW = timedelta(days=7)
DM_TEXT_LIMITS = {"facebook": 2000, "instagram": 1000}
COMMENT_TEXT_LIMITS = {"facebook": 8000, "instagram": 2200}
SEND_API_ATTACHMENT_TYPES = {"image": "image", "sticker": "image", "video": "video", "audio": "audio", "file": "file"}
# Graph error codes: request limits (app, user, Page, API), an expired or invalid token,
# and missing permissions (10 and the 200 range).
RATE_LIMIT_CODES = {4, 17, 32, 613}
TOKEN_CODES = {102, 190}
TRANSIENT_CODES = {1, 2}
OBJECT_GONE = (100, 33)
# Usage headers give percentages of the limit; pause before reaching it.
USAGE_PAUSE_PERCENT = 95
USAGE_PAUSE_SECONDS = 60.0
CONVERSATION_FIELDS = "id,updated_time,participants,snippet"
MESSAGE_FIELDS = "id,created_time,from,to,message,attachments"
PAGE_SIZE = 50


def _usage_percent(usage: object) -> float:
    if not isinstance(usage, dict):
        return 0.0
    return max((float(usage.get(key) or 0) for key in ("call_count", "total_cputime", "total_time")), default=0.0)


def _regain_seconds(headers: Mapping[str, str]) -> float | None:
    """Return the longest `estimated_time_to_regain_access` (minutes) of the BUC header, in seconds."""
    try:
        usage = json.loads(headers.get("X-Business-Use-Case-Usage") or "{}")
    except ValueError:
        return None
    waits = [
        float(item.get("estimated_time_to_regain_access") or 0) * 60
        for items in usage.values() if isinstance(items, list)
        for item in items if isinstance(item, dict)
    ]
    return max(waits, default=0.0) or None


def _usage_wait(headers: Mapping[str, str]) -> float | None:
    """Pause an account whose app or business use-case usage nears 100 %."""
    percents = []
    for name in ("X-App-Usage", "X-Business-Use-Case-Usage"):
        try:
            usage = json.loads(headers.get(name) or "{}")
        except ValueError:
            continue
        entries = [usage] if name == "X-App-Usage" else [item for items in usage.values() if isinstance(items, list) for item in items]
        percents.extend(_usage_percent(entry) for entry in entries)
    regain = _regain_seconds(headers)
    if regain or max(percents, default=0.0) >= USAGE_PAUSE_PERCENT:
        return regain or USAGE_PAUSE_SECONDS
    return None


def _read_error(status: int, body: dict, headers: Mapping[str, str]) -> ErrorReading:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    label = f"{code}/{subcode}" if subcode else str(code or status)
    message = str(error.get("message", ""))
    if code in RATE_LIMIT_CODES:
        kind = ErrorKind.RATE_LIMITED
    elif code in TOKEN_CODES or code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        kind = ErrorKind.CREDENTIALS
    elif code in TRANSIENT_CODES or error.get("is_transient"):
        kind = ErrorKind.UNAVAILABLE
    elif (code, subcode) == OBJECT_GONE:
        kind, message = ErrorKind.REFUSED, f"the object no longer exists ({message})"
    elif code is not None and status < 500:
        # Graph answers 400 for most errors, 403 included among them for policy refusals.
        kind = ErrorKind.REFUSED
    else:
        kind = kind_for_status(status)
    retry_after = _regain_seconds(headers) if kind == ErrorKind.RATE_LIMITED else None
    return ErrorReading(kind=kind, code=label, message=message, retry_after=retry_after)


DIALECT = Dialect(label="Meta Graph API", read_error=_read_error, usage_wait=_usage_wait)


def messaging_type(*, platform: str, customer_wrote_at: datetime | None, now: datetime) -> dict[str, str]:
    """Return the Send API's messaging type for a reply now, or refuse one outside the window."""
    label = LABELS[platform]
    if customer_wrote_at is None:
        raise ReplyRefused(f"{label} only lets a Page answer a customer who wrote first.")
    age = now - customer_wrote_at
    if age <= STANDARD_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if age <= HUMAN_AGENT_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    raise ReplyRefused(
        f"The customer last wrote {age.days} days ago: {label} accepts replies up to 7 days "
        "after the customer's last message (24 hours, then as a human agent), and no later."
    )


def reply_check(reply: OutboundReply, *, now: datetime) -> None:
    label = LABELS[reply.platform]
    if reply.private:
        if reply.source != "comment":
            raise ReplyRefused("A private reply answers a public comment.")
        if reply.reply_to_at is None or now - reply.reply_to_at > PRIVATE_REPLY_WINDOW:
            raise ReplyRefused(f"{label} accepts a private reply within 7 days of the comment only.")
        refuse_attachments(reply, where="A private reply")
        text_limit_check(reply.text, limit=DM_TEXT_LIMITS[reply.platform], what=f"A {label} message")
    elif reply.source == "dm":
        messaging_type(platform=reply.platform, customer_wrote_at=reply.customer_wrote_at, now=now)
        text_limit_check(reply.text, limit=DM_TEXT_LIMITS[reply.platform], what=f"A {label} message")
        unsupported = [a.type for a in reply.attachments if a.type not in SEND_API_ATTACHMENT_TYPES]
        if unsupported:
            raise ReplyRefused(f"{label} messages can't carry {', '.join(unsupported)} attachments: put links in the text.")
    else:
        text_limit_check(reply.text, limit=COMMENT_TEXT_LIMITS[reply.platform], what=f"A {label} comment")
        # Facebook comments take one picture by URL; Instagram comments only text.
        if reply.platform == "instagram":
            refuse_attachments(reply, where="An Instagram comment")
        elif len(reply.attachments) > 1:
            raise ReplyRefused("A Facebook comment carries at most one attachment.")


def reply_parts(reply: OutboundReply) -> list[Part]:
    if reply.source == "dm" and not reply.private:
        return text_and_attachment_parts(reply, text_limit=DM_TEXT_LIMITS[reply.platform])
    return [Part(text=reply.text, attachment=next(iter(reply.attachments), None))]


def part_send(*, client: PlatformClient, account: Account, reply: OutboundReply, part: Part, now: datetime) -> str:
    """Send one part; return its platform id (message id, or comment id)."""
    headers = {"Authorization": f"Bearer {account.credential}"}
    base = account.base_url
    if reply.private:
        body = {"recipient": {"comment_id": reply.reply_to_id or reply.thread_id}, "message": {"text": part.text}}
        return str(client.call("POST", f"{base}/me/messages", json=body, headers=headers).body["message_id"])
    if reply.source == "dm":
        body = {
            "recipient": {"id": reply.recipient_id},
            **messaging_type(platform=reply.platform, customer_wrote_at=reply.customer_wrote_at, now=now),
            "message": _send_api_message(part, token=reply.token),
        }
        return str(client.call("POST", f"{base}/me/messages", json=body, headers=headers).body["message_id"])
    if reply.source == "mention":
        # An Instagram mention is answered on the media (or comment) that mentioned the account.
        body = {"media_id": reply.post_id, "message": part.text}
        if reply.thread_id != reply.post_id:
            body["comment_id"] = reply.thread_id
        return str(client.call("POST", f"{base}/{account.account_id}/mentions", json=body, headers=headers).body["id"])
    target = reply.reply_to_id or reply.thread_id
    if reply.platform == "instagram":
        url, body = f"{base}/{target}/replies", {"message": part.text}
    else:
        url, body = f"{base}/{target}/comments", {"message": part.text}
        if part.attachment:
            body["attachment_url"] = part.attachment.url
    return str(client.call("POST", url, json=body, headers=headers).body["id"])


def _send_api_message(part: Part, *, token: str) -> dict:
    if part.attachment is None:
        # Meta echoes `metadata` back with the message: the reply's own key, to recognise it.
        return {"text": part.text, "metadata": token}
    kind = SEND_API_ATTACHMENT_TYPES[part.attachment.type]
    return {"attachment": {"type": kind, "payload": {"url": part.attachment.url, "is_reusable": True}}}


def fetch_conversations(*, client: PlatformClient, account: Account, since: datetime) -> list[RemoteConversation]:
    """List the account's conversations with activity since `since`, newest first."""
    params: dict = {
        "platform": "instagram" if account.platform == "instagram" else "messenger",
        "fields": CONVERSATION_FIELDS,
        "limit": PAGE_SIZE,
    }
    found: list[RemoteConversation] = []
    url: str | None = f"{account.base_url}/me/conversations"
    while url:
        page = client.call("GET", url, params=params, headers={"Authorization": f"Bearer {account.credential}"}).body
        for item in page.get("data", []):
            updated = from_iso(item["updated_time"])
            if updated < since:
                return found  # newest first: the rest is older
            participants = tuple(
                str(p["id"]) for p in (item.get("participants") or {}).get("data", []) if str(p.get("id")) != account.account_id
            )
            found.append(RemoteConversation(
                channel_id=account.channel_id, platform=account.platform, platform_conversation_id=str(item["id"]),
                last_activity_at=updated, participants=participants, snippet=item.get("snippet", ""),
            ))
        after = (page.get("paging") or {}).get("cursors", {}).get("after")
        url = url if after and (page.get("paging") or {}).get("next") else None
        params = {**params, "after": after}
    return found


def fetch_messages(*, client: PlatformClient, account: Account, conversation: RemoteConversation, cursor: str | None) -> MessagePage:
    """Fetch one page of a conversation's messages, newest first, as normalized events."""
    params = {"fields": MESSAGE_FIELDS, "limit": PAGE_SIZE, **({"after": cursor} if cursor else {})}
    url = f"{account.base_url}/{conversation.platform_conversation_id}/messages"
    page = client.call("GET", url, params=params, headers={"Authorization": f"Bearer {account.credential}"}).body
    events = [
        parsing.guarded(partial(_fetched_message, item, account.account_id), account_id=account.account_id, kind="fetched message")
        for item in page.get("data", [])
    ]
    paging = page.get("paging") or {}
    return MessagePage(events=events, cursor=paging.get("cursors", {}).get("after") if paging.get("next") else None)


def _fetched_message(item: dict, account: str) -> NormalizedEvent:
    sender = item["from"]
    recipient = next(iter((item.get("to") or {}).get("data", [])), {})
    attachments = tuple(
        Attachment(type="image" if a.get("image_data") else "file", url=(a.get("image_data") or {}).get("url") or a.get("file_url", ""))
        for a in (item.get("attachments") or {}).get("data", [])
    )
    text = item.get("message", "")
    common = {
        "account_id": account,
        "platform_message_id": str(item["id"]),
        "timestamp": from_iso(item["created_time"]),
        "text": text,
        "content_type": parsing.content_type_for(text, attachments),
        "attachments": attachments,
    }
    if str(sender["id"]) == account:
        customer = Sender(external_id=str(recipient.get("id", "")), display_name=recipient.get("name", ""))
        return OutboundEcho(recipient=customer, external_thread_id=customer.external_id, **common)
    customer = Sender(external_id=str(sender["id"]), display_name=sender.get("name", ""))
    return InboundMessage(source="dm", sender=customer, external_thread_id=customer.external_id, **common)
