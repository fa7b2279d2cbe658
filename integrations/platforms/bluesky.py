"""Bluesky (AT Protocol): parse polled chat logs and notifications, and fetch them over XRPC.

Bluesky has no webhooks and signs nothing. The poller fetches pages over authenticated
HTTPS and stores each one as `{"stream": "chat" | "notifications", "page": <XRPC response>}`;
`parse` turns a stored page into normalized events. See
tests/fixtures/platforms/bluesky/FORMATS.md.
"""

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from integrations.http import (
    Dialect,
    ErrorKind,
    ErrorReading,
    PlatformClient,
    PlatformRefused,
    kind_for_status,
)
from integrations.outbound import (
    Account,
    MessagePage,
    OutboundReply,
    Part,
    RemoteConversation,
    ReplyRefused,
    refuse_attachments,
    refuse_private,
)
from integrations.platforms import parsing
from integrations.platforms.base import (
    Attachment,
    Ignored,
    InboundMessage,
    MalformedPayload,
    MessageDeleted,
    NormalizedEvent,
    OutboundEcho,
    Sender,
)
from integrations.platforms.timeconv import from_iso

# The PDS forwards chat.bsky.* calls to the chat service named in this header.
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
INGESTED_REASONS = ("mention", "reply", "quote")
APP_URL = "https://bsky.app"
POST_COLLECTION = "app.bsky.feed.post"
# Shown instead of a handle that no longer resolves to its did; the did still links.
INVALID_HANDLE = "handle.invalid"

LOG_CREATE_MESSAGE = "chat.bsky.convo.defs#logCreateMessage"
LOG_DELETE_MESSAGE = "chat.bsky.convo.defs#logDeleteMessage"
MESSAGE_VIEW = "chat.bsky.convo.defs#messageView"
DELETED_MESSAGE_VIEW = "chat.bsky.convo.defs#deletedMessageView"
RECORD_EMBED_VIEW = "app.bsky.embed.record#view"
RECORD_WITH_MEDIA_VIEW = "app.bsky.embed.recordWithMedia#view"
IMAGES_VIEW = "app.bsky.embed.images#view"


def parse(payload: dict, *, account_id: str) -> list[NormalizedEvent]:
    """Turn one stored page into events; `account_id` is the brand account's did."""
    if not isinstance(payload, dict) or not isinstance(payload.get("page"), dict):
        raise MalformedPayload("A Bluesky delivery needs a `page` object.")
    stream = payload.get("stream")
    if not isinstance(stream, str) or stream not in STREAMS:
        raise MalformedPayload("A Bluesky delivery's stream must be `chat` or `notifications`.")
    key, build = STREAMS[stream]
    # A page is a batch: one unreadable entry must not block the cursor behind it forever.
    return [
        parsing.guarded(
            partial(build, entry, account_id=account_id), account_id=account_id, kind=key
        )
        for entry in parsing.object_list(payload["page"], key)
    ]


def new_log_entries(page: dict, *, after_rev: str) -> dict:
    """Return a copy of a getLog page keeping only the logs newer than `after_rev`.

    Revs are sortable strings, so string order is log order.
    """
    return {**page, "logs": [log for log in page.get("logs", []) if log.get("rev", "") > after_rev]}


def max_rev(page: dict) -> str:
    """Return the highest rev in a getLog page, or "" if it has no logs."""
    return max((log.get("rev", "") for log in page.get("logs", [])), default="")


def notifications_newer_than(page: dict, *, seen_at: str) -> tuple[list[dict], bool]:
    """Return the notifications indexed after `seen_at`, and whether paging should stop.

    Pages come newest first, so reaching one indexed at or before `seen_at` means every
    later page was stored already. An empty `seen_at` keeps everything.
    """
    notifications = page.get("notifications", [])
    if not seen_at:
        return list(notifications), False
    # Compare as datetimes: the AppView may vary the number of fractional digits.
    threshold = from_iso(seen_at)
    newer = [item for item in notifications if from_iso(item["indexedAt"]) > threshold]
    return newer, len(newer) < len(notifications)


def get_log(*, client: PlatformClient, account: Account, cursor: str | None) -> dict:
    """Fetch the chat log after `cursor` (without one, only the current cursor is useful)."""
    params = {"cursor": cursor} if cursor else {}
    return _call(client, account, "GET", "chat.bsky.convo.getLog", params=params, chat=True)


def list_notifications(
    *, client: PlatformClient, account: Account, cursor: str | None, limit: int = 50
) -> dict:
    """Fetch one page of mention, reply and quote notifications, newest first. They come
    from the AppView, not the chat service: no proxy header."""
    # A list value becomes a repeated parameter (reasons=mention&reasons=reply...).
    params = {"limit": limit, "reasons": list(INGESTED_REASONS), **({"cursor": cursor} if cursor else {})}
    return _call(client, account, "GET", "app.bsky.notification.listNotifications", params=params)


def _log_event(log: dict, *, account_id: str) -> NormalizedEvent:
    log_type = log.get("$type", "")
    message = log.get("message") or {}
    message_type = message.get("$type", "")
    if log_type == LOG_DELETE_MESSAGE or (
        log_type == LOG_CREATE_MESSAGE and message_type == DELETED_MESSAGE_VIEW
    ):
        return MessageDeleted(account_id=account_id, platform_message_id=_dm_key(log))
    if log_type == LOG_CREATE_MESSAGE and message_type == MESSAGE_VIEW:
        return _dm_event(log, account_id=account_id)
    # Reads, reactions, convo state changes and group logs carry no message to ingest.
    return Ignored(account_id=account_id, reason=log_type or "unknown")


def _dm_event(log: dict, *, account_id: str) -> InboundMessage | OutboundEcho:
    """Build the event of a created message: inbound, or an echo of the brand's own send."""
    message = log["message"]
    profiles = {profile["did"]: profile for profile in log.get("relatedProfiles", [])}
    sender_did = message["sender"]["did"]
    attachments = _shared_post_attachments(message.get("embed"))
    text = message.get("text", "")
    common: dict[str, Any] = {
        "account_id": account_id,
        "platform_message_id": _dm_key(log),
        "timestamp": from_iso(message["sentAt"]),
        "text": text,
        "content_type": parsing.content_type_for(text, attachments),
        "attachments": attachments,
        "external_thread_id": log["convoId"],
    }
    # getLog returns the brand account's own sends too, whichever app sent them.
    if sender_did == account_id:
        recipient_did = next((did for did in profiles if did != account_id), "")
        return OutboundEcho(recipient=_profile_sender(recipient_did, profiles), **common)
    return InboundMessage(source="dm", sender=_profile_sender(sender_did, profiles), **common)


def _dm_key(log: dict) -> str:
    """Build the platform id: a message id is only unique within its convo."""
    return f"{log['convoId']}:{log['message']['id']}"


def _profile_sender(did: str, profiles: Mapping[str, dict]) -> Sender:
    """Describe `did` from its profile view, or by did alone if the page names no profile."""
    return _sender(profiles.get(did) or {"did": did})


def _sender(profile: dict) -> Sender:
    return Sender(
        external_id=profile.get("did", ""),
        handle=profile.get("handle", ""),
        display_name=profile.get("displayName", ""),
        avatar_url=profile.get("avatar", ""),
    )


def _shared_post_attachments(embed: dict | None) -> tuple[Attachment, ...]:
    """Return a shared post as a link followed by its images (DMs can embed nothing else)."""
    if not embed or embed.get("$type") != RECORD_EMBED_VIEW:
        return ()
    record = embed.get("record") or {}
    attachments: list[Attachment] = []
    uri = record.get("uri", "")
    # The embedded record may also be a feed, list or starter pack, which has no post page.
    if _at_uri_parts(uri)[1] == POST_COLLECTION:
        handle = (record.get("author") or {}).get("handle", "")
        attachments.append(Attachment(type="link", url=_post_url(uri, handle=handle)))
    for view in record.get("embeds", []):
        attachments.extend(_image_attachments(view))
    return tuple(attachments)


def _image_attachments(view: dict) -> list[Attachment]:
    # A post that quotes another post and has images keeps them under `media`.
    if view.get("$type") == RECORD_WITH_MEDIA_VIEW:
        view = view.get("media") or {}
    if view.get("$type") != IMAGES_VIEW:
        return []
    return [
        Attachment(type="image", url=image["fullsize"], name=image.get("alt", ""))
        for image in view.get("images", [])
    ]


def _notification_event(notification: dict, *, account_id: str) -> NormalizedEvent:
    reason = notification.get("reason", "")
    if reason not in INGESTED_REASONS:
        return Ignored(account_id=account_id, reason=reason or "unknown")
    record = notification.get("record") or {}
    author = notification["author"]
    uri = notification["uri"]
    thread_root = ((record.get("reply") or {}).get("root") or {}).get("uri") or uri
    return InboundMessage(
        account_id=account_id,
        platform_message_id=uri,
        source="comment" if reason == "reply" else "mention",
        sender=_sender(author),
        timestamp=_created_at(record, fallback=notification["indexedAt"]),
        text=record.get("text", ""),
        thread_key=thread_root,
        external_thread_id=uri,
        post_id=thread_root,
        post_url=_post_url(uri, handle=author.get("handle", "")),
        language=next(iter(record.get("langs") or []), ""),
    )


# stream -> (the page's list of entries, the builder of one entry's event)
STREAMS = {
    "chat": ("logs", _log_event),
    "notifications": ("notifications", _notification_event),
}


def _created_at(record: dict, *, fallback: str) -> datetime:
    """Return the record's createdAt, or `fallback` (indexedAt) if it is absent or invalid."""
    # createdAt is written by the author's client; indexedAt is set by the AppView.
    try:
        return from_iso(record["createdAt"])
    except (KeyError, TypeError, ValueError):
        return from_iso(fallback)


def _at_uri_parts(uri: str) -> tuple[str, str, str]:
    """Split at://<did>/<collection>/<rkey> into its three parts ("" where missing)."""
    authority, _, path = uri.removeprefix("at://").partition("/")
    collection, _, rkey = path.partition("/")
    return authority, collection, rkey


def _post_url(uri: str, *, handle: str) -> str:
    """Build the bsky.app page of a post from its at-uri, by handle if known, else by did."""
    did, _, rkey = _at_uri_parts(uri)
    actor = handle if handle and handle != INVALID_HANDLE else did
    return f"{APP_URL}/profile/{actor}/post/{rkey}"


def _auth_headers(access_jwt: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_jwt}"}


# Replies (chat messages and reply posts) and history, over XRPC.

POST_GRAPHEME_LIMIT = 300
DM_GRAPHEME_LIMIT, DM_BYTE_LIMIT = 1000, 10000
PAGE_SIZE = 100
LINK = re.compile(r"https?://[^\s<>\"]+")
MENTION = re.compile(
    r"(?<![\w@])@([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+)"
)
# A link's trailing punctuation usually ends the sentence, not the URL.
LINK_TRAILING = ".,;:!?)\"'"
ZWJ = 0x200D
# Code points that extend the grapheme before them (UAX #29's Extend): variation selectors,
# emoji skin tones and tag characters, besides combining marks.
EXTENDERS = ((0xFE00, 0xFE0F), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F))
REGIONAL_INDICATORS = (0x1F1E6, 0x1F1FF)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def grapheme_count(text: str) -> int:
    """Count user-perceived characters as Bluesky limits them: a letter with its combining
    marks, an emoji with its modifiers or ZWJ sequence, a flag's two regional indicators and
    CRLF each count once. (UAX #29 without Hangul jamo composition, which no keyboard sends.)"""
    count, joined, flag_half = 0, False, False
    for char in text:
        point = ord(char)
        if (
            unicodedata.category(char).startswith("M")
            or point == ZWJ
            or any(a <= point <= b for a, b in EXTENDERS)
        ):
            joined = point == ZWJ
            continue
        if joined:
            joined = False
            continue
        is_flag = REGIONAL_INDICATORS[0] <= point <= REGIONAL_INDICATORS[1]
        if is_flag and flag_half:
            flag_half = False
            continue
        flag_half = is_flag
        count += 1
    return count - text.count("\r\n")


def _read_error(status: int, body: dict, headers: Mapping[str, str]) -> ErrorReading:
    name, message = str(body.get("error") or ""), str(body.get("message") or "")
    if name in ("ExpiredToken", "InvalidToken"):
        kind = ErrorKind.TOKEN_EXPIRED
    elif name == "RateLimitExceeded":
        kind = ErrorKind.RATE_LIMITED
    else:
        kind = kind_for_status(status)
    return ErrorReading(kind=kind, code=name or str(status), message=message)


DIALECT = Dialect(label="Bluesky", read_error=_read_error)


def session_open(*, client: PlatformClient, base_url: str, identifier: str, password: str) -> str:
    """Log in with an app password through the shared client; return the access JWT."""
    body = {"identifier": identifier, "password": password}
    return client.call("POST", f"{base_url}/xrpc/com.atproto.server.createSession", json=body).body[
        "accessJwt"
    ]


def reply_check(reply: OutboundReply, *, now: datetime) -> None:
    refuse_private(reply, platform="Bluesky")
    # Posts embed images by uploaded blob, and chat messages embed only posts.
    refuse_attachments(reply, where="A Bluesky reply")
    graphemes = grapheme_count(reply.text)
    if reply.source == "dm":
        if graphemes > DM_GRAPHEME_LIMIT or len(reply.text.encode()) > DM_BYTE_LIMIT:
            raise ReplyRefused(
                f"A Bluesky chat message is limited to {DM_GRAPHEME_LIMIT} graphemes and {DM_BYTE_LIMIT} bytes; "
                f"this reply is {graphemes} graphemes, {len(reply.text.encode())} bytes."
            )
    elif graphemes > POST_GRAPHEME_LIMIT:
        raise ReplyRefused(
            f"A Bluesky post is limited to {POST_GRAPHEME_LIMIT} graphemes; this reply is {graphemes}."
        )


def reply_parts(reply: OutboundReply) -> list[Part]:
    return [Part(text=reply.text)]


def part_send(
    *, client: PlatformClient, account: Account, reply: OutboundReply, part: Part, now: datetime
) -> str:
    """Send a chat message in the convo, or a post replying to the customer's; return the
    message key (convoId:id, as the parser stores it) or the post's at-uri."""
    text_facets = facets(part.text, client=client, account=account)
    if reply.source == "dm":
        message: dict[str, Any] = {
            "text": part.text,
            **({"facets": text_facets} if text_facets else {}),
        }
        body = {"convoId": reply.thread_id, "message": message}
        sent = _call(client, account, "POST", "chat.bsky.convo.sendMessage", json=body, chat=True)
        return f"{reply.thread_id}:{sent['id']}"
    rkey = record_key(token=reply.token, at=reply.queued_at or now)
    if reply.resumed and (uri := _post_uri_if_exists(client, account, rkey)):
        return uri  # the earlier attempt created it: the record key makes that checkable
    parent = _post_view(client, account, uri=reply.reply_to_id or reply.thread_id)
    strong_parent = {"uri": parent["uri"], "cid": parent["cid"]}
    root = ((parent.get("record") or {}).get("reply") or {}).get("root") or strong_parent
    record: dict[str, Any] = {
        "$type": POST_COLLECTION,
        "text": part.text,
        "createdAt": now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "reply": {"root": root, "parent": strong_parent},
    }
    if text_facets:
        record["facets"] = text_facets
    body = {
        "repo": account.account_id,
        "collection": POST_COLLECTION,
        "rkey": rkey,
        "record": record,
    }
    return _call(client, account, "POST", "com.atproto.repo.createRecord", json=body)["uri"]


def record_key(*, token: str, at: datetime) -> str:
    """Return a TID (microseconds, then a 10-bit clock id) fixed by the reply: a retried send
    writes the same record key, so a post that already exists is found, not posted twice."""
    micros = int(at.timestamp() * 1_000_000)
    clock_id = int(hashlib.sha256(token.encode()).hexdigest(), 16) % 1024
    value = micros << 10 | clock_id
    return "".join(TID_ALPHABET[value >> (5 * (12 - index)) & 31] for index in range(13))


def facets(text: str, *, client: PlatformClient, account: Account) -> list[dict]:
    """Return the rich-text facets of links and resolvable @handles, at UTF-8 byte offsets."""
    found = []
    for match in LINK.finditer(text):
        url = match.group().rstrip(LINK_TRAILING)
        found.append(
            _facet(
                text,
                match.start(),
                match.start() + len(url),
                {"$type": "app.bsky.richtext.facet#link", "uri": url},
            )
        )
    for match in MENTION.finditer(text):
        did = _handle_did(client, account, match.group(1))
        if did:
            found.append(
                _facet(
                    text,
                    match.start(),
                    match.end(),
                    {"$type": "app.bsky.richtext.facet#mention", "did": did},
                )
            )
    return sorted(found, key=lambda facet: facet["index"]["byteStart"])


def _facet(text: str, start: int, end: int, feature: dict) -> dict:
    byte_start = len(text[:start].encode())
    return {
        "index": {"byteStart": byte_start, "byteEnd": byte_start + len(text[start:end].encode())},
        "features": [feature],
    }


def _handle_did(client: PlatformClient, account: Account, handle: str) -> str:
    try:
        return _call(
            client, account, "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
        )["did"]
    except PlatformRefused:
        return ""  # not a Bluesky handle (an e-mail address, a typo): left as plain text


def _post_view(client: PlatformClient, account: Account, *, uri: str) -> dict:
    posts = _call(client, account, "GET", "app.bsky.feed.getPosts", params={"uris": [uri]}).get(
        "posts", []
    )
    if not posts:
        raise PlatformRefused(
            "The post answered no longer exists on Bluesky.", platform_code="NotFound"
        )
    return posts[0]


def _post_uri_if_exists(client: PlatformClient, account: Account, rkey: str) -> str:
    params = {"repo": account.account_id, "collection": POST_COLLECTION, "rkey": rkey}
    try:
        return _call(client, account, "GET", "com.atproto.repo.getRecord", params=params)["uri"]
    except PlatformRefused as exc:
        if exc.platform_code in ("RecordNotFound", "400", "404"):
            return ""
        raise


def _call(
    client: PlatformClient,
    account: Account,
    method: str,
    nsid: str,
    *,
    chat: bool = False,
    **kwargs: Any,
) -> dict:
    headers = _auth_headers(account.credential)
    if chat:
        headers["atproto-proxy"] = CHAT_PROXY
    return client.call(method, f"{account.base_url}/xrpc/{nsid}", headers=headers, **kwargs).body


def fetch_conversations(
    *, client: PlatformClient, account: Account, since: datetime
) -> list[RemoteConversation]:
    """List chat convos whose last message is from `since` on (listConvos: most recent first)."""
    found: list[RemoteConversation] = []
    cursor = None
    while True:
        params = {"limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
        page = _call(client, account, "GET", "chat.bsky.convo.listConvos", params=params, chat=True)
        for convo in page.get("convos", []):
            last = convo.get("lastMessage") or {}
            if "sentAt" not in last:
                continue
            at = from_iso(last["sentAt"])
            if at < since:
                return found
            found.append(
                RemoteConversation(
                    channel_id=account.channel_id,
                    platform=account.platform,
                    platform_conversation_id=convo["id"],
                    last_activity_at=at,
                    snippet=last.get("text", ""),
                    participants=tuple(
                        m["did"]
                        for m in convo.get("members", [])
                        if m.get("did") != account.account_id
                    ),
                )
            )
        # A cursor that does not move would repeat the page forever.
        if not page.get("cursor") or page["cursor"] == cursor or not page.get("convos"):
            return found
        cursor = page["cursor"]


def fetch_messages(
    *,
    client: PlatformClient,
    account: Account,
    conversation: RemoteConversation,
    cursor: str | None,
) -> MessagePage:
    """Fetch one page of a convo's messages (newest first) as the events the chat log gives."""
    params = {
        "convoId": conversation.platform_conversation_id,
        "limit": PAGE_SIZE,
        **({"cursor": cursor} if cursor else {}),
    }
    page = _call(client, account, "GET", "chat.bsky.convo.getMessages", params=params, chat=True)
    # A message from getMessages is what a logCreateMessage carries: parse it as one.
    logs = [
        {
            "$type": LOG_CREATE_MESSAGE,
            "convoId": conversation.platform_conversation_id,
            "message": message,
            "relatedProfiles": page.get("relatedProfiles", []),
        }
        for message in page.get("messages", [])
    ]
    events = parse({"stream": "chat", "page": {"logs": logs}}, account_id=account.account_id)
    return MessagePage(events=events, cursor=page.get("cursor") if page.get("messages") else None)
