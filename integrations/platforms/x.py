"""X Account Activity API webhooks: DMs and public mentions of a subscribed account.

A delivery names the subscribed account (`for_user_id`) and carries one kind of event
list, e.g. `direct_message_events` or `tweet_create_events`. X also sends the account's
own activity, so senders are compared with `for_user_id`.
See tests/fixtures/platforms/x/FORMATS.md.
"""

import base64
from collections.abc import Mapping
from datetime import datetime
from functools import partial

from django.http import HttpResponse, JsonResponse

from integrations.http import Dialect, ErrorKind, ErrorReading, PlatformClient, kind_for_status
from integrations.outbound import (
    Account,
    MessagePage,
    OutboundReply,
    Part,
    RemoteConversation,
    refuse_attachments,
    refuse_private,
    text_limit_check,
)
from integrations.platforms import parsing, signing
from integrations.platforms.base import (
    Attachment,
    HandshakeFailed,
    Ignored,
    InboundMessage,
    MalformedPayload,
    NormalizedEvent,
    OutboundEcho,
    Sender,
)
from integrations.platforms.timeconv import from_iso, from_unix_ms

SIGNATURE_HEADER = "x-twitter-webhooks-signature"

# Keys that describe the delivery rather than an event.
ENVELOPE_KEYS = {"for_user_id", "users", "apps", "user_has_blocked"}

# DM media type -> Attachment.type (a GIF is delivered as a video).
MEDIA_TYPES = {"photo": "image", "video": "video", "animated_gif": "video"}


def verify(*, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Check `x-twitter-webhooks-signature: sha256=<base64>`, the consumer secret's HMAC of
    the raw body."""
    received = signing.header_value(headers, SIGNATURE_HEADER)
    return signing.equal(received, signature_headers(body=body, secret=secret)[SIGNATURE_HEADER])


def signature_headers(*, body: bytes, secret: str) -> dict[str, str]:
    """Return the signature header X sends with `body` (for the simulator and tests)."""
    return {SIGNATURE_HEADER: _signature(secret, body)}


def handshake(
    *, params: Mapping[str, str], verify_tokens: list[str], secrets: list[str]
) -> HttpResponse:
    """Answer the CRC check: sign `crc_token` with the consumer secret.

    The CRC proves the secret, so `verify_tokens` is not used.
    """
    token = params.get("crc_token", "")
    if not token:
        raise HandshakeFailed("Missing crc_token.")
    if not secrets:
        raise HandshakeFailed("No consumer secret to answer the CRC with.")
    return JsonResponse({"response_token": _signature(secrets[0], token.encode())})


def account_ids(payload: dict) -> set[str]:
    """Return the subscribed account the delivery is for; none for `user_event` (revocation)."""
    account = _envelope(payload).get("for_user_id")
    return {str(account)} if account else set()


def parse(payload: dict, *, account_id: str = "") -> list[NormalizedEvent]:
    """Turn one delivery into normalized events; every event kind but DMs and posts is ignored."""
    account = str(_envelope(payload).get("for_user_id") or account_id)
    users = payload.get("users") or {}
    builders = {
        "direct_message_events": partial(_direct_message, account=account, users=users),
        "tweet_create_events": partial(_post, account=account),
    }
    events: list[NormalizedEvent] = []
    for key in payload:
        if key in ENVELOPE_KEYS:
            continue
        build = builders.get(key)
        if build is None:
            # Typing, read marks, likes, follows, deletions, revocations and future kinds.
            events.append(Ignored(account_id=account, reason=key))
            continue
        events.extend(
            parsing.guarded(partial(build, item), account_id=account, kind=key)
            for item in parsing.object_list(payload, key)
        )
    return events


def _envelope(payload: dict) -> dict:
    if not isinstance(payload, dict):
        raise MalformedPayload("An X delivery is a JSON object.")
    return payload


def _signature(secret: str, message: bytes) -> str:
    """Sign as both the CRC answer and the body signature do: "sha256=" + base64 HMAC."""
    return "sha256=" + base64.b64encode(signing.hmac_sha256(secret, message)).decode()


def _direct_message(event: dict, *, account: str, users: dict) -> NormalizedEvent:
    if event.get("type") != "message_create":
        return Ignored(account_id=account, reason=f"direct message {event.get('type')}")
    create = event["message_create"]
    sender_id = str(create["sender_id"])
    recipient_id = str(create["target"]["recipient_id"])
    text, attachments = _text_and_media(create.get("message_data", {}))
    content = {
        "account_id": account,
        "platform_message_id": str(event["id"]),
        "timestamp": from_unix_ms(event["created_timestamp"]),
        "text": text,
        "content_type": parsing.content_type_for(text, attachments),
        "attachments": attachments,
    }
    if sender_id == account:
        return OutboundEcho(
            **content,
            recipient=_sender(users.get(recipient_id, {}), recipient_id),
            external_thread_id=recipient_id,
        )
    return InboundMessage(
        **content,
        source="dm",
        sender=_sender(users.get(sender_id, {}), sender_id),
        external_thread_id=sender_id,
    )


def _text_and_media(data: dict) -> tuple[str, tuple[Attachment, ...]]:
    text = data.get("text", "")
    attachment = data.get("attachment") or {}
    media = attachment.get("media") if attachment.get("type") == "media" else None
    if not media:
        return text, ()
    # X appends the media's t.co link to the text; the customer did not type it.
    link = media.get("url", "")
    if link and text.endswith(link):
        text = text.removesuffix(link).rstrip()
    kind = MEDIA_TYPES.get(media.get("type"), "file")
    return text, (Attachment(type=kind, url=media.get("media_url_https", "")),)


def _post(post: dict, *, account: str) -> NormalizedEvent:
    author = post["user"]
    author_id = str(author["id_str"])
    if author_id == account:
        return Ignored(account_id=account, reason="own post")
    if "retweeted_status" in post:
        return Ignored(account_id=account, reason="retweet")
    post_id = str(post["id_str"])
    text = post.get("text", "")
    if post.get("truncated"):
        text = post.get("extended_tweet", {}).get("full_text", text)
    replied_to = str(post.get("in_reply_to_status_id_str") or "")
    # v1.1 posts carry no conversation id (that is v2's `conversation_id`), and walking the
    # reply chain would take API calls: the replied-to post, or else the post itself, is
    # the thread.
    thread = replied_to or post_id
    return InboundMessage(
        account_id=account,
        platform_message_id=post_id,
        source="mention",
        sender=_sender(author, author_id),
        timestamp=from_unix_ms(post["timestamp_ms"]),
        text=text,
        thread_key=thread,
        # Replies go to the mention itself.
        external_thread_id=post_id,
        post_id=thread,
        post_url=f"https://x.com/{author['screen_name']}/status/{post_id}",
        reply_to_platform_id=replied_to,
        language=post.get("lang") or "",
    )


def _sender(user: dict, user_id: str) -> Sender:
    return Sender(
        external_id=user_id,
        handle=user.get("screen_name", ""),
        display_name=user.get("name", ""),
        avatar_url=user.get("profile_image_url_https", ""),
    )


# Replies and history over the X API v2.

DM_TEXT_LIMIT = 10000
POST_TEXT_LIMIT = 280
RATE_LIMIT_CODE = 88
# Problem types that mean the app or token is not allowed to call the endpoint at all; any
# other 403 refuses this one message (the customer closed their DMs, blocked the account...).
CREDENTIAL_PROBLEMS = (
    "client-not-enrolled",
    "unsupported-authentication",
    "not-authorized-for-resource",
)
DM_FIELDS = "id,text,event_type,dm_conversation_id,created_at,sender_id,participant_ids"
PAGE_SIZE = 100


def _read_error(status: int, body: dict, headers: Mapping[str, str]) -> ErrorReading:
    # v2 answers with a problem (`title`, `detail`, `type`); v1.1 with `errors: [{code, message}]`.
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = str(body.get("detail") or first.get("message") or body.get("title") or "")
    code = str(first.get("code") or body.get("type", "").rsplit("/", 1)[-1] or status)
    kind = kind_for_status(status)
    if first.get("code") == RATE_LIMIT_CODE:
        kind = ErrorKind.RATE_LIMITED
    elif status == 403:
        problem = str(body.get("type", ""))
        kind = ErrorKind.CREDENTIALS if problem.endswith(CREDENTIAL_PROBLEMS) else ErrorKind.REFUSED
    return ErrorReading(kind=kind, code=code, message=message)


DIALECT = Dialect(label="X API", read_error=_read_error)


def reply_check(reply: OutboundReply, *, now: datetime) -> None:
    refuse_private(reply, platform="X")
    # X takes media by the id of an upload, not by URL.
    refuse_attachments(reply, where="An X reply")
    if reply.source == "dm":
        text_limit_check(reply.text, limit=DM_TEXT_LIMIT, what="An X direct message")
    else:
        text_limit_check(reply.text, limit=POST_TEXT_LIMIT, what="An X post")


def reply_parts(reply: OutboundReply) -> list[Part]:
    return [Part(text=reply.text)]


def part_send(
    *, client: PlatformClient, account: Account, reply: OutboundReply, part: Part, now: datetime
) -> str:
    """Send a DM to the customer, or a post replying to theirs; return the DM event or post id."""
    headers = {"Authorization": f"Bearer {account.credential}"}
    if reply.source == "dm":
        url = f"{account.base_url}/2/dm_conversations/with/{reply.recipient_id}/messages"
        return str(
            client.call("POST", url, json={"text": part.text}, headers=headers).body["data"][
                "dm_event_id"
            ]
        )
    body = {
        "text": part.text,
        "reply": {"in_reply_to_tweet_id": reply.reply_to_id or reply.thread_id},
    }
    return str(
        client.call("POST", f"{account.base_url}/2/tweets", json=body, headers=headers).body[
            "data"
        ]["id"]
    )


def _dm_events_page(
    *, client: PlatformClient, account: Account, path: str, cursor: str | None
) -> dict:
    params = {
        "event_types": "MessageCreate",
        "dm_event.fields": DM_FIELDS,
        "max_results": PAGE_SIZE,
    }
    if cursor:
        params["pagination_token"] = cursor
    headers = {"Authorization": f"Bearer {account.credential}"}
    return client.call("GET", f"{account.base_url}{path}", params=params, headers=headers).body


def fetch_conversations(
    *, client: PlatformClient, account: Account, since: datetime
) -> list[RemoteConversation]:
    """List DM conversations with messages since `since`, from the account's DM events (X has
    no conversation list: events come newest first across conversations)."""
    latest: dict[str, tuple[datetime, str]] = {}
    cursor = None
    while True:
        page = _dm_events_page(client=client, account=account, path="/2/dm_events", cursor=cursor)
        events = page.get("data", [])
        for event in events:
            at = from_iso(event["created_at"])
            if at >= since and event["dm_conversation_id"] not in latest:
                latest[event["dm_conversation_id"]] = (at, event.get("text", ""))
        next_token = (page.get("meta") or {}).get("next_token")
        if (
            not next_token
            or next_token == cursor
            or not events
            or from_iso(events[-1]["created_at"]) < since
        ):
            break
        cursor = next_token
    return [
        RemoteConversation(
            channel_id=account.channel_id,
            platform=account.platform,
            platform_conversation_id=conversation_id,
            last_activity_at=at,
            snippet=text,
            participants=tuple(p for p in conversation_id.split("-") if p != account.account_id),
        )
        for conversation_id, (at, text) in latest.items()
    ]


def fetch_messages(
    *,
    client: PlatformClient,
    account: Account,
    conversation: RemoteConversation,
    cursor: str | None,
) -> MessagePage:
    path = f"/2/dm_conversations/{conversation.platform_conversation_id}/dm_events"
    page = _dm_events_page(client=client, account=account, path=path, cursor=cursor)
    customer = next(iter(conversation.participants), "")
    events = [
        parsing.guarded(
            partial(_fetched_dm, event, account=account.account_id, customer=customer),
            account_id=account.account_id,
            kind="fetched DM",
        )
        for event in page.get("data", [])
    ]
    return MessagePage(events=events, cursor=(page.get("meta") or {}).get("next_token"))


def _fetched_dm(event: dict, *, account: str, customer: str) -> NormalizedEvent:
    content = {
        "account_id": account,
        "platform_message_id": str(event["id"]),
        "timestamp": from_iso(event["created_at"]),
        "text": event.get("text", ""),
        "external_thread_id": customer,
    }
    if str(event["sender_id"]) == account:
        return OutboundEcho(recipient=Sender(external_id=customer), **content)
    return InboundMessage(
        source="dm", sender=Sender(external_id=str(event["sender_id"])), **content
    )
