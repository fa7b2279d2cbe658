"""Bluesky (AT Protocol): parse polled chat logs and notifications, and fetch them over XRPC.

Bluesky has no webhooks and signs nothing. The poller fetches pages over authenticated
HTTPS and stores each one as `{"stream": "chat" | "notifications", "page": <XRPC response>}`;
`parse` turns a stored page into normalized events. See
tests/fixtures/platforms/bluesky/FORMATS.md.
"""

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

import requests

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
TIMEOUT_SECONDS = 10
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


class BlueskyError(Exception):
    """A failed XRPC call. `status` is None when no response arrived."""

    def __init__(self, message: str, status: int | None, *, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after  # seconds, from Retry-After on 429


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


def create_session(*, base_url: str, identifier: str, password: str) -> str:
    """Log in with an app password and return the access JWT."""
    body = _xrpc(
        "POST",
        base_url=base_url,
        nsid="com.atproto.server.createSession",
        secret=password,
        json={"identifier": identifier, "password": password},
    )
    return body["accessJwt"]


def get_log(*, base_url: str, access_jwt: str, cursor: str | None) -> dict:
    """Fetch the chat log after `cursor` (without one, only the current cursor is useful)."""
    return _xrpc(
        "GET",
        base_url=base_url,
        nsid="chat.bsky.convo.getLog",
        secret=access_jwt,
        headers={**_auth_headers(access_jwt), "atproto-proxy": CHAT_PROXY},
        params={"cursor": cursor},  # requests drops None values
    )


def list_notifications(
    *, base_url: str, access_jwt: str, cursor: str | None, limit: int = 50
) -> dict:
    """Fetch one page of mention, reply and quote notifications, newest first."""
    return _xrpc(
        "GET",
        base_url=base_url,
        nsid="app.bsky.notification.listNotifications",
        secret=access_jwt,
        headers=_auth_headers(access_jwt),
        # A list value becomes a repeated parameter (reasons=mention&reasons=reply...).
        params={"limit": limit, "reasons": list(INGESTED_REASONS), "cursor": cursor},
    )


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


def _xrpc(
    method: str,
    *,
    base_url: str,
    nsid: str,
    secret: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    json: dict | None = None,
) -> dict:
    """Call an XRPC method and return its JSON body; raise BlueskyError otherwise.

    `secret` (the JWT or password sent) is redacted from every error message.
    """
    url = f"{base_url.rstrip('/')}/xrpc/{nsid}"
    try:
        response = requests.request(
            method, url, headers=headers, params=params, json=json, timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        # A timeout or connection error has no status; the poller retries it on its schedule.
        raise BlueskyError(f"{nsid} failed: {type(exc).__name__}", None) from exc
    if not response.ok:
        raise _error(response, nsid=nsid, secret=secret)
    try:
        return response.json()
    except ValueError as exc:
        raise BlueskyError(f"{nsid} answered without JSON", response.status_code) from exc


def _error(response: requests.Response, *, nsid: str, secret: str) -> BlueskyError:
    """Describe an error answer by its XRPC `error` and `message` fields."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    fields = body if isinstance(body, dict) else {}
    detail = " ".join(str(fields[key]) for key in ("error", "message") if fields.get(key))
    message = f"{nsid} answered {response.status_code}"
    if detail:
        message = f"{message}: {detail}"
    # The server words its own messages; a credential must never reach logs or the database.
    if secret:
        message = message.replace(secret, "[redacted]")
    retry_after = response.headers.get("Retry-After", "")
    return BlueskyError(
        message,
        response.status_code,
        retry_after=int(retry_after) if retry_after.isdigit() else None,
    )
