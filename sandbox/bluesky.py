"""A fake Bluesky PDS that sandbox Bluesky channels poll (mounted at /sandbox/bluesky/).

It serves the three XRPC methods the poller calls, in the shapes of
tests/fixtures/platforms/bluesky/examples. It keeps no state: customer messages are a pure
function of the clock. DM number i is sent at EPOCH + i × DM_INTERVAL and mention number j at
EPOCH + j × MENTION_INTERVAL; a cursor is the index of the last entry returned, zero-padded so
that cursors and revs sort as strings. Polling again with the returned cursor therefore yields
each entry exactly once. Every THREAD_LENGTH consecutive entries are one customer's thread, so
conversations get several messages.

Sessions are stateless too: the access token carries the DID and handle it was issued for.
"""

import base64
import binascii
import hashlib
import json
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox.simulator import PERSONAS, TOPICS, Persona, customer_text

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
DM_INTERVAL = timedelta(seconds=20)
MENTION_INTERVAL = timedelta(seconds=45)
THREAD_LENGTH = 3
REV_DIGITS = 16
# getLog takes no limit; the chat service pages by itself.
LOG_PAGE_SIZE = 100
# Older notifications are gone, as on a real AppView (which keeps a bounded history); this
# also bounds what a new channel pages through on its first poll.
NOTIFICATIONS_RETAINED = 20
NOTIFICATIONS_LIMIT_DEFAULT, NOTIFICATIONS_LIMIT_MAX = 50, 100
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
ACCESS, REFRESH = "sbx-access", "sbx-refresh"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class XrpcError(Exception):
    """An XRPC error answer: `{"error": name, "message": message}` with an HTTP status."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message


@dataclass(frozen=True)
class Account:
    """Who a session is for: the brand account being polled."""

    did: str
    handle: str


# Identifiers, timestamps and profiles


def rev(index: int) -> str:
    return f"{index:0{REV_DIGITS}d}"


def _cursor_index(cursor: str) -> int:
    if not (cursor.isascii() and cursor.isdigit()):
        raise XrpcError(400, "InvalidRequest", f"Malformed cursor {cursor!r}.")
    return int(cursor)


def latest_index(*, now: datetime, interval: timedelta) -> int:
    """Return the index of the newest entry sent by `now` (0: none yet)."""
    return max(0, (now - EPOCH) // interval)


def _tid(at: datetime, clock_id: int) -> str:
    """Return an AT Protocol TID: microseconds since 1970 and a clock id, base32-sortable."""
    value = ((at - UNIX_EPOCH) // timedelta(microseconds=1)) << 10 | clock_id % 1024
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def _base32(*parts: str, size: int) -> str:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return base64.b32encode(digest).decode().lower().rstrip("=")[:size]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _customer(persona: Persona) -> Account:
    return Account(
        did=f"did:plc:{_base32('bluesky', persona.handle, size=24)}",
        handle=f"{persona.handle.replace('.', '')}.bsky.social",
    )


def _profile_basic(account: Account, *, display_name: str) -> dict:
    """Return a `profileViewBasic`, as in getLog's relatedProfiles."""
    return {
        "did": account.did,
        "handle": account.handle,
        "displayName": display_name,
        "avatar": (
            f"https://cdn.bsky.app/img/avatar/plain/{account.did}/"
            f"bafkrei{_base32('avatar', account.did, size=52)}@jpeg"
        ),
        "associated": {"chat": {"allowIncoming": "all"}},
        "viewer": {"muted": False, "blockedBy": False},
        "labels": [],
        "chatDisabled": False,
    }


def _profile(account: Account, *, display_name: str) -> dict:
    """Return a `profileView`, as in a notification's author."""
    profile = _profile_basic(account, display_name=display_name)
    del profile["chatDisabled"]
    return {
        **profile,
        "createdAt": "2023-11-02T09:14:55.102Z",
        "description": "",
        "indexedAt": "2024-05-20T10:00:00.000Z",
    }


@dataclass(frozen=True)
class Entry:
    """One customer message of a stream, with the thread it belongs to."""

    index: int
    thread: int
    turn: int
    persona: Persona
    text: str
    at: datetime


def _entry(*, stream: str, index: int, interval: timedelta, mention: str = "") -> Entry:
    thread, turn = divmod(index - 1, THREAD_LENGTH)
    # Seeded by the thread alone: every entry of a thread has the same customer and topic.
    rng = random.Random(f"sandbox-bluesky:{stream}:{thread}")
    persona, topic, order = (
        rng.choice(PERSONAS),
        rng.choice(list(TOPICS)),
        rng.randrange(10**4, 10**5),
    )
    text = customer_text(topic=topic, language=persona.language, turn=turn, order=order)
    return Entry(
        index=index,
        thread=thread,
        turn=turn,
        persona=persona,
        text=f"{mention}{text}",
        at=EPOCH + index * interval,
    )


# chat.bsky.convo.getLog


def _convo_id(customer: Account, brand: Account) -> str:
    # One convo per pair of members, as on Bluesky: a customer's threads all land in it.
    return f"3k{_base32('convo', customer.did, brand.did, size=11)}"


def _log(index: int, *, brand: Account) -> dict:
    entry = _entry(stream="chat", index=index, interval=DM_INTERVAL)
    customer = _customer(entry.persona)
    return {
        "$type": "chat.bsky.convo.defs#logCreateMessage",
        "rev": rev(index),
        "convoId": _convo_id(customer, brand),
        "message": {
            "$type": "chat.bsky.convo.defs#messageView",
            "id": _tid(entry.at, index),
            "rev": rev(index),
            "text": entry.text,
            "sender": {"did": customer.did},
            "sentAt": _iso(entry.at),
        },
        "relatedProfiles": [
            _profile_basic(customer, display_name=entry.persona.display_name),
            _profile_basic(brand, display_name=brand.handle),
        ],
    }


def chat_log_page(*, cursor: str | None, brand: Account, now: datetime) -> dict:
    """Return the getLog page after `cursor`; without one, only the current cursor."""
    latest = latest_index(now=now, interval=DM_INTERVAL)
    if cursor is None:
        return {"cursor": rev(latest), "logs": []}
    after = _cursor_index(cursor)
    last = min(latest, after + LOG_PAGE_SIZE)
    logs = [_log(index, brand=brand) for index in range(after + 1, last + 1)]
    return {"cursor": rev(max(after, last)), "logs": logs}


# app.bsky.notification.listNotifications


def _post_uri(did: str, at: datetime, clock_id: int) -> str:
    return f"at://{did}/app.bsky.feed.post/{_tid(at, clock_id)}"


def _strong_ref(uri: str) -> dict:
    return {"uri": uri, "cid": f"bafyrei{_base32('cid', uri, size=52)}"}


def _reason(thread: int) -> str:
    # Even threads: a customer's post mentioning the brand, then their own follow-ups.
    # Odd threads: replies under one of the brand's posts.
    return "mention" if thread % 2 == 0 else "reply"


def _mention_entry(index: int, *, brand: Account) -> Entry:
    thread = (index - 1) // THREAD_LENGTH
    prefix = f"@{brand.handle} " if _reason(thread) == "mention" else ""
    return _entry(stream="mentions", index=index, interval=MENTION_INTERVAL, mention=prefix)


def _mention_uri(entry: Entry) -> str:
    return _post_uri(_customer(entry.persona).did, entry.at, entry.index)


def _reply_refs(entry: Entry, *, brand: Account) -> dict | None:
    """Return the record's `reply` (root and parent), or None for a thread's first post."""
    first_index = entry.index - entry.turn
    if _reason(entry.thread) == "reply":
        root = _post_uri(brand.did, EPOCH + entry.thread * MENTION_INTERVAL, entry.thread)
    elif entry.turn:
        root = _mention_uri(_mention_entry(first_index, brand=brand))
    else:
        return None
    parent = _mention_uri(_mention_entry(entry.index - 1, brand=brand)) if entry.turn else root
    return {"root": _strong_ref(root), "parent": _strong_ref(parent)}


def _notification(index: int, *, brand: Account) -> dict:
    entry = _mention_entry(index, brand=brand)
    customer = _customer(entry.persona)
    uri = _mention_uri(entry)
    record: dict = {
        "$type": "app.bsky.feed.post",
        "text": entry.text,
        "createdAt": _iso(entry.at),
        "langs": [entry.persona.language],
    }
    reply = _reply_refs(entry, brand=brand)
    if reply:
        record["reply"] = reply
    notification = {
        **_strong_ref(uri),
        "author": _profile(customer, display_name=entry.persona.display_name),
        "reason": _reason(entry.thread),
        "record": record,
        "isRead": False,
        "indexedAt": _iso(entry.at + timedelta(milliseconds=400)),
        "labels": [],
    }
    if _reason(entry.thread) == "mention":
        end = len(f"@{brand.handle}".encode())
        record["facets"] = [
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": 0, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": brand.did}],
            }
        ]
    else:
        notification["reasonSubject"] = record["reply"]["root"]["uri"]
    return notification


def _indices_newest_first(*, top: int, oldest: int, reasons: set[str]) -> Iterator[int]:
    for index in range(top, oldest - 1, -1):
        if not reasons or _reason((index - 1) // THREAD_LENGTH) in reasons:
            yield index


def notifications_page(
    *, cursor: str | None, limit: int, reasons: set[str], brand: Account, now: datetime
) -> dict:
    """Return one page of notifications, newest first, older than `cursor` if given.

    The page's cursor leads to the next older page; it is absent on the oldest page.
    """
    latest = latest_index(now=now, interval=MENTION_INTERVAL)
    oldest = max(1, latest - NOTIFICATIONS_RETAINED + 1)
    top = latest if cursor is None else min(latest, _cursor_index(cursor) - 1)
    indices = list(_indices_newest_first(top=top, oldest=oldest, reasons=reasons))
    page_indices, more = indices[:limit], len(indices) > limit
    page: dict = {
        "notifications": [_notification(index, brand=brand) for index in page_indices],
        "priority": False,
    }
    if more:
        page["cursor"] = rev(page_indices[-1])
    return page


# Sessions


def _encode_token(kind: str, account: Account) -> str:
    identity = json.dumps({"did": account.did, "handle": account.handle}).encode()
    encoded = base64.urlsafe_b64encode(identity).decode().rstrip("=")
    return f"{kind}.{encoded}.{secrets.token_urlsafe(24)}"


def _decode_token(kind: str, token: str) -> Account | None:
    prefix, _, rest = token.partition(".")
    encoded, _, _ = rest.partition(".")
    if prefix != kind or not encoded:
        return None
    try:
        identity = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        return Account(did=str(identity["did"]), handle=str(identity["handle"]))
    except (binascii.Error, ValueError, TypeError, KeyError):
        return None


def _session(account: Account) -> dict:
    return {
        "accessJwt": _encode_token(ACCESS, account),
        "refreshJwt": _encode_token(REFRESH, account),
        "did": account.did,
        "handle": account.handle,
        "active": True,
    }


def _bearer(request: HttpRequest, kind: str) -> Account:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not token:
        raise XrpcError(401, "AuthMissing", "Authentication Required")
    account = _decode_token(kind, token.strip())
    if account is None:
        raise XrpcError(401, "InvalidToken", "Token could not be verified")
    return account


def _require_chat_proxy(request: HttpRequest) -> None:
    # The real PDS only forwards chat.bsky.* calls that name the chat service.
    if request.headers.get("atproto-proxy") != CHAT_PROXY:
        raise XrpcError(
            400, "InvalidRequest", f"chat.bsky.* calls need atproto-proxy: {CHAT_PROXY}"
        )


# XRPC methods


def _create_session(request: HttpRequest) -> dict:
    """Log in with any identifier and password (a DID or a handle)."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise XrpcError(400, "InvalidRequest", "The body must be JSON.") from exc
    identifier = body.get("identifier") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    if not (isinstance(identifier, str) and identifier and isinstance(password, str) and password):
        raise XrpcError(400, "InvalidRequest", "identifier and password are required.")
    if identifier.startswith("did:"):
        account = Account(
            did=identifier, handle=f"sandbox-{_base32(identifier, size=8)}.bsky.social"
        )
    else:
        account = Account(
            did=f"did:plc:{_base32('handle', identifier, size=24)}", handle=identifier
        )
    return _session(account)


def _refresh_session(request: HttpRequest) -> dict:
    return _session(_bearer(request, REFRESH))


def _get_log(request: HttpRequest) -> dict:
    brand = _bearer(request, ACCESS)
    _require_chat_proxy(request)
    return chat_log_page(cursor=request.GET.get("cursor") or None, brand=brand, now=timezone.now())


def _limit(value: str | None) -> int:
    if value is None:
        return NOTIFICATIONS_LIMIT_DEFAULT
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= NOTIFICATIONS_LIMIT_MAX:
        raise XrpcError(400, "InvalidRequest", f"limit must be 1 to {NOTIFICATIONS_LIMIT_MAX}.")
    return int(value)


def _list_notifications(request: HttpRequest) -> dict:
    brand = _bearer(request, ACCESS)
    return notifications_page(
        cursor=request.GET.get("cursor") or None,
        limit=_limit(request.GET.get("limit")),
        reasons=set(request.GET.getlist("reasons")),
        brand=brand,
        now=timezone.now(),
    )


XRPC_METHODS: dict[str, tuple[str, Callable[[HttpRequest], dict]]] = {
    "com.atproto.server.createSession": ("POST", _create_session),
    "com.atproto.server.refreshSession": ("POST", _refresh_session),
    "chat.bsky.convo.getLog": ("GET", _get_log),
    "app.bsky.notification.listNotifications": ("GET", _list_notifications),
}


@csrf_exempt
def xrpc(request: HttpRequest, nsid: str) -> JsonResponse:
    """Answer one XRPC call as a PDS would, errors included."""
    try:
        if nsid not in XRPC_METHODS:
            raise XrpcError(404, "MethodNotImplemented", f"Method not implemented: {nsid}")
        http_method, handler = XRPC_METHODS[nsid]
        if request.method != http_method:
            raise XrpcError(405, "InvalidRequest", f"{nsid} must be called with {http_method}.")
        return JsonResponse(handler(request))
    except XrpcError as error:
        return JsonResponse({"error": error.name, "message": error.message}, status=error.status)
