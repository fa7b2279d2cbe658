"""LinkedIn organization social-action notifications (comments on, and mentions of, a Page),
by webhook or by polling. See tests/fixtures/platforms/linkedin/FORMATS.md.

A webhook delivery batches `notifications[]`; the polling endpoint returns the same
notification objects under `elements`. Each names its organization in `organizationalEntity`.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from urllib.parse import quote

from django.http import HttpResponse, JsonResponse

from integrations.http import Dialect, ErrorReading, PlatformClient, kind_for_status
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
    MessageDeleted,
    MessageEdited,
    NormalizedEvent,
    Sender,
)
from integrations.platforms.timeconv import from_unix_ms

SIGNATURE_HEADER = "X-LI-Signature"

# LinkedIn spells a comment's URN two ways: `urn:li:comment:(activity:1,2)` in
# `generatedActivity`, `urn:li:comment:(urn:li:activity:1,2)` elsewhere. This matches the
# short spelling, to expand it.
SHORT_COMMENT_URN = re.compile(r"^urn:li:comment:\((?!urn:li:)")


def verify(*, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Check `X-LI-Signature`, the client secret's hex HMAC of "hmacsha256=" + the raw body."""
    # LinkedIn's hex may be in either case.
    received = signing.header_value(headers, SIGNATURE_HEADER).lower()
    return signing.equal(received, signature_headers(body=body, secret=secret)[SIGNATURE_HEADER])


def signature_headers(*, body: bytes, secret: str) -> dict[str, str]:
    """Return the signature header LinkedIn sends with `body` (for the simulator and tests)."""
    # The literal "hmacsha256=" is prefixed to the signed bytes, not to the header value.
    return {SIGNATURE_HEADER: signing.hmac_sha256(secret, b"hmacsha256=" + body).hex()}


def handshake(
    *, params: Mapping[str, str], verify_tokens: list[str], secrets: list[str]
) -> HttpResponse:
    """Answer the validation GET: sign `challengeCode` with the client secret.

    The challenge proves the secret, so `verify_tokens` is not used.
    """
    code = params.get("challengeCode", "")
    if not code:
        raise HandshakeFailed("Missing challengeCode.")
    if not secrets:
        raise HandshakeFailed("No client secret to answer the challenge with.")
    response = signing.hmac_sha256(secrets[0], code.encode()).hex()
    return JsonResponse({"challengeCode": code, "challengeResponse": response})


def account_ids(payload: dict) -> set[str]:
    """Return the organization URNs the delivery's notifications are for."""
    return {
        str(notification["organizationalEntity"])
        for notification in _notifications(payload)
        if notification.get("organizationalEntity")
    }


def parse(payload: dict, *, account_id: str = "") -> list[NormalizedEvent]:
    """Turn a webhook delivery or a polled notifications page into normalized events."""
    events: list[NormalizedEvent] = []
    for notification in _notifications(payload):
        account = str(notification.get("organizationalEntity") or account_id)
        action = notification.get("action")
        events.append(
            parsing.guarded(
                partial(_notification_event, notification, account),
                account_id=account,
                kind=f"{action} notification",
            )
        )
    return events


def parse_polled_comments(page: dict, *, account_id: str, post_urn: str) -> list[NormalizedEvent]:
    """Turn a Comments API page (`GET /rest/socialActions/{post}/comments`) into events."""
    if not isinstance(page, dict):
        raise MalformedPayload("A comments page is a JSON object.")
    return [
        parsing.guarded(
            partial(_polled_comment, comment, account_id, post_urn),
            account_id=account_id,
            kind="polled comment",
        )
        for comment in parsing.object_list(page, "elements")
    ]


def comment_urn(urn: str) -> str:
    """Return a comment URN in its one stored spelling, `urn:li:comment:(urn:li:activity:…)`."""
    return SHORT_COMMENT_URN.sub("urn:li:comment:(urn:li:", urn)


def _notifications(payload: dict) -> list[dict]:
    if not isinstance(payload, dict):
        raise MalformedPayload("A LinkedIn delivery is a JSON object.")
    key = "notifications" if "notifications" in payload else "elements"
    if key not in payload:
        raise MalformedPayload("A LinkedIn delivery has `notifications` or `elements`.")
    return parsing.object_list(payload, key)


def _notification_event(notification: dict, account: str) -> NormalizedEvent:
    action = notification.get("action")
    if action == "COMMENT":
        return _comment(notification, account)
    if action == "SHARE_MENTION":
        return _mention(notification, account)
    if action == "COMMENT_EDIT":
        comment = notification["decoratedGeneratedActivity"]["comment"]
        return MessageEdited(
            account_id=account,
            platform_message_id=_notified_comment_urn(notification),
            text=comment.get("text", ""),
            timestamp=from_unix_ms(notification["lastModifiedAt"]),
        )
    if action == "COMMENT_DELETE":
        return MessageDeleted(
            account_id=account,
            platform_message_id=_notified_comment_urn(notification),
            timestamp=from_unix_ms(notification["lastModifiedAt"]),
        )
    # LIKE, SHARE, ADMIN_COMMENT (the organization's own comment) and unknown actions.
    return Ignored(account_id=account, reason=f"{action} notification")


def _comment(notification: dict, account: str) -> NormalizedEvent:
    comment = notification["decoratedGeneratedActivity"]["comment"]
    author = str(comment["owner"])
    if author == account:
        return Ignored(account_id=account, reason="organization's own comment")
    urn = _notified_comment_urn(notification)
    post = str(notification.get("sourcePost") or comment["object"])
    return InboundMessage(
        account_id=account,
        platform_message_id=urn,
        source="comment",
        # A person URN only: the name must be fetched from the People API.
        sender=Sender(external_id=author),
        timestamp=from_unix_ms(notification["lastModifiedAt"]),
        text=comment.get("text", ""),
        thread_key=post,
        external_thread_id=urn,
        post_id=post,
        post_url=_post_url(post),
    )


def _mention(notification: dict, account: str) -> InboundMessage:
    post = notification["decoratedSourcePost"]
    share = str(notification.get("generatedActivity") or post["entity"])
    return InboundMessage(
        account_id=account,
        platform_message_id=share,
        source="mention",
        sender=Sender(external_id=str(post["owner"])),
        timestamp=from_unix_ms(notification["lastModifiedAt"]),
        text=post.get("text", ""),
        thread_key=share,
        # The answer to a mention is a comment on the post that made it.
        external_thread_id=share,
        post_id=share,
        post_url=_post_url(share),
    )


def _polled_comment(comment: dict, account: str, post_urn: str) -> NormalizedEvent:
    author = str(comment["actor"])
    if author == account:
        # The organization's own replies are listed with the customers' comments.
        return Ignored(account_id=account, reason="organization's own comment")
    urn = comment_urn(comment["commentUrn"])
    text = comment.get("message", {}).get("text", "")
    # `image` is an image URN, not a URL: it is resolved with the Images API when fetched.
    attachments = tuple(
        Attachment(type="image", url=item["entity"]["image"])
        for item in comment.get("content", [])
        if "image" in item.get("entity", {})
    )
    parent = comment.get("parentComment")
    return InboundMessage(
        account_id=account,
        platform_message_id=urn,
        source="comment",
        sender=Sender(external_id=author),
        timestamp=from_unix_ms(comment["created"]["time"]),
        text=text,
        content_type=parsing.content_type_for(text, attachments),
        attachments=attachments,
        thread_key=post_urn,
        external_thread_id=urn,
        post_id=post_urn,
        post_url=_post_url(post_urn),
        reply_to_platform_id=comment_urn(parent) if parent else "",
    )


def _notified_comment_urn(notification: dict) -> str:
    comment = notification.get("decoratedGeneratedActivity", {}).get("comment", {})
    return comment_urn(str(comment.get("entity") or notification["generatedActivity"]))


def _post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


# Replies (comments as the organization) and history, over the Community Management API.

COMMENT_TEXT_LIMIT = 1250
API_VERSION = "202405"
PAGE_SIZE = 50
NOTIFIED_ACTIONS = "List(COMMENT,SHARE_MENTION)"


def _read_error(status: int, body: dict, headers: Mapping[str, str]) -> ErrorReading:
    code = str(body.get("serviceErrorCode") or body.get("code") or status)
    return ErrorReading(
        kind=kind_for_status(status), code=code, message=str(body.get("message", ""))
    )


DIALECT = Dialect(label="LinkedIn API", read_error=_read_error)


def _headers(account: Account) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {account.credential}",
        "LinkedIn-Version": API_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }


def _urn_path(urn: str) -> str:
    # URNs in a path or a query must be URL-encoded, colons and parentheses included.
    return quote(urn, safe="")


def reply_check(reply: OutboundReply, *, now: datetime) -> None:
    refuse_private(reply, platform="LinkedIn")
    # Images are attached by the URN of an upload, not by URL.
    refuse_attachments(reply, where="A LinkedIn comment")
    text_limit_check(reply.text, limit=COMMENT_TEXT_LIMIT, what="A LinkedIn comment")


def reply_parts(reply: OutboundReply) -> list[Part]:
    return [Part(text=reply.text)]


def part_send(
    *, client: PlatformClient, account: Account, reply: OutboundReply, part: Part, now: datetime
) -> str:
    """Comment as the organization: under the customer's comment, or on the post that
    mentioned it; return the new comment's URN."""
    if reply.source == "mention":
        post, parent = reply.thread_id, ""
    else:
        post = reply.post_id
        # Threads have two levels: a reply to a reply goes under the top-level comment.
        parent = reply.reply_to_parent_id or reply.reply_to_id or reply.thread_id
    body = {"actor": account.account_id, "object": post, "message": {"text": part.text}}
    if parent:
        body["parentComment"] = parent
    url = f"{account.base_url}/rest/socialActions/{_urn_path(parent or post)}/comments"
    response = client.call("POST", url, json=body, headers=_headers(account))
    created = response.body.get("commentUrn") or response.headers.get("x-restli-id", "")
    return comment_urn(str(created))


def fetch_conversations(
    *, client: PlatformClient, account: Account, since: datetime
) -> list[RemoteConversation]:
    """List the posts with comments or mentions since `since` (one conversation per post)."""
    now_ms = int(client.clock() * 1000)
    time_range = f"(start:{int(since.timestamp() * 1000)},end:{now_ms})"
    latest: dict[str, RemoteConversation] = {}
    start = 0
    while True:
        # Rest.li lists and records in a query keep their parentheses and commas unencoded.
        url = (
            f"{account.base_url}/rest/organizationalEntityNotifications?q=criteria"
            f"&organizationalEntity={_urn_path(account.account_id)}&actions={NOTIFIED_ACTIONS}"
            f"&timeRange={time_range}&start={start}&count={PAGE_SIZE}"
        )
        page = client.call("GET", url, headers=_headers(account)).body
        for event in parse(page, account_id=account.account_id):
            if isinstance(event, InboundMessage):
                known = latest.get(event.thread_key)
                if known is None or event.timestamp > known.last_activity_at:
                    latest[event.thread_key] = RemoteConversation(
                        channel_id=account.channel_id,
                        platform=account.platform,
                        platform_conversation_id=event.thread_key,
                        last_activity_at=event.timestamp,
                        participants=(event.sender.external_id,),
                        snippet=event.text,
                    )
        if len(page.get("elements", [])) < PAGE_SIZE:
            return list(latest.values())
        start += PAGE_SIZE


def fetch_messages(
    *,
    client: PlatformClient,
    account: Account,
    conversation: RemoteConversation,
    cursor: str | None,
) -> MessagePage:
    """Fetch one page of the comments on a post."""
    start = int(cursor or 0)
    post = conversation.platform_conversation_id
    url = f"{account.base_url}/rest/socialActions/{_urn_path(post)}/comments?start={start}&count={PAGE_SIZE}"
    page = client.call("GET", url, headers=_headers(account)).body
    events = parse_polled_comments(page, account_id=account.account_id, post_urn=post)
    more = len(page.get("elements", [])) == PAGE_SIZE
    return MessagePage(events=events, cursor=str(start + PAGE_SIZE) if more else None)
