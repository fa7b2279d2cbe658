"""A fake platform API that sandbox channels send their replies to (under /sandbox/<platform>/).

It accepts replies in each platform's request shapes and answers as the platform does, then,
shortly after, posts signed delivery and read receipts to this deployment's webhook, as Meta
does for Messenger and Instagram messages (the other platforms send no receipts our parsers
read). It stores nothing in the database and reads it only to sign receipts, in the thread
that posts them: the views are async, so a reply sent from a request of this same server
(eager Celery in the embedded setup) never waits for a thread that request holds.

It enforces each platform's rate limit per account (SANDBOX_RATE_LIMITS, windows scaled by
PLATFORM_RATE_WINDOW_SCALE) with an exact sliding log, answering 429 past it and counting
those answers (GET /sandbox/stats), and can be told to answer the next calls of a platform
with 429 + Retry-After, 500 or an expired token (`sandbox_failure_set`, an admin action).
"""

import hashlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from integrations.models import Channel, Platform
from integrations.platforms import adapter_for
from sandbox import bluesky as sandbox_bluesky

logger = logging.getLogger(__name__)

FAILURE_MODES = ("429", "500", "expired_token")
FAILURE_KEY = "sandbox-platform.failure:{platform}"
RETRY_AFTER_SECONDS = 2
RECEIPT_POST_TIMEOUT_SECONDS = 10
_ids = itertools.count(int(time.time() * 1000))
_lock = threading.Lock()
_calls: dict[str, deque[float]] = {}
_stats = {"accepted": 0, "rate_limited": 0, "injected": 0}


def sandbox_failure_set(*, platform: str, mode: str, count: int = 1) -> None:
    """Make the sandbox answer the next `count` calls to `platform` with `mode`'s error."""
    if mode not in FAILURE_MODES:
        raise ValueError(
            f"Unknown sandbox failure {mode!r}: use one of {', '.join(FAILURE_MODES)}."
        )
    cache.set(FAILURE_KEY.format(platform=platform), {"mode": mode, "left": count}, timeout=3600)


def sandbox_stats(*, reset: bool = False) -> dict[str, int]:
    with _lock:
        stats = dict(_stats)
        if reset:
            _stats.update(accepted=0, rate_limited=0, injected=0)
            _calls.clear()
    return stats


def _injected_failure(platform: str) -> str | None:
    key = FAILURE_KEY.format(platform=platform)
    failure = cache.get(key)
    if not failure:
        return None
    if failure["left"] <= 1:
        cache.delete(key)
    else:
        cache.set(key, {**failure, "left": failure["left"] - 1}, timeout=3600)
    return failure["mode"]


def _over_limit(platform: str, token: str) -> bool:
    """Record one call of the account; return True if it exceeds the platform's limit (an
    exact sliding window, unlike the client's slices, to check the client honestly)."""
    limit = settings.SANDBOX_RATE_LIMITS.get(platform)
    if limit is None:
        return False
    calls, window = limit[0], limit[1] * settings.PLATFORM_RATE_WINDOW_SCALE
    now = time.monotonic()
    account = f"{platform}:{hashlib.sha256(token.encode()).hexdigest()}"
    with _lock:
        log = _calls.setdefault(account, deque())
        while log and log[0] <= now - window:
            log.popleft()
        if len(log) >= calls:
            _stats["rate_limited"] += 1
            return True
        log.append(now)
        return False


# What each platform answers when it refuses: (status, body, headers) by failure mode.
def _refusal(platform: str, mode: str) -> JsonResponse:
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    reset = {
        "x-rate-limit-reset": str(int(time.time()) + RETRY_AFTER_SECONDS),
        "x-rate-limit-remaining": "0",
    }
    shapes = {
        "meta": {
            "429": (
                429,
                {
                    "error": {
                        "code": 32,
                        "message": "Page request limit reached",
                        "type": "OAuthException",
                    }
                },
                retry,
            ),
            "500": (
                500,
                {
                    "error": {
                        "code": 2,
                        "message": "Service temporarily unavailable",
                        "is_transient": True,
                    }
                },
                {},
            ),
            "expired_token": (
                400,
                {
                    "error": {
                        "code": 190,
                        "error_subcode": 463,
                        "type": "OAuthException",
                        "message": "Error validating access token: Session has expired",
                    }
                },
                {},
            ),
        },
        Platform.X: {
            "429": (
                429,
                {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
                {**retry, **reset},
            ),
            "500": (503, {"title": "Service Unavailable", "status": 503}, {}),
            "expired_token": (
                401,
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
                {},
            ),
        },
        Platform.LINKEDIN: {
            "429": (
                429,
                {"status": 429, "message": "Resource level throttle limit reached"},
                retry,
            ),
            "500": (500, {"status": 500, "message": "Internal Server Error"}, {}),
            "expired_token": (
                401,
                {
                    "status": 401,
                    "serviceErrorCode": 65601,
                    "message": "The token used in the request has expired",
                },
                {},
            ),
        },
        Platform.BLUESKY: {
            "429": (429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, retry),
            "500": (500, {"error": "InternalServerError", "message": "Internal Server Error"}, {}),
            "expired_token": (400, {"error": "ExpiredToken", "message": "Token has expired"}, {}),
        },
        Platform.TELEGRAM: {
            "429": (
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {RETRY_AFTER_SECONDS}",
                    "parameters": {"retry_after": RETRY_AFTER_SECONDS},
                },
                {},
            ),
            "500": (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, {}),
            "expired_token": (
                401,
                {"ok": False, "error_code": 401, "description": "Unauthorized"},
                {},
            ),
        },
    }
    status, body, headers = shapes[
        "meta" if platform in (Platform.FACEBOOK, Platform.INSTAGRAM) else platform
    ][mode]
    return JsonResponse(body, status=status, headers=headers)


def _gate(platform: str, token: str) -> JsonResponse | None:
    """Return the refusal due for this call (an injected failure, the rate limit), or None."""
    mode = _injected_failure(platform)
    if mode:
        with _lock:
            _stats["injected"] += 1
        return _refusal(platform, mode)
    if _over_limit(platform, token):
        return _refusal(platform, "429")
    with _lock:
        _stats["accepted"] += 1
    return None


def _bearer(request: HttpRequest) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


def _new_id() -> int:
    return next(_ids)


# Receipts


@dataclass(frozen=True)
class ReceiptJob:
    """Receipts to post for one accepted Messenger or Instagram message."""

    platform: str
    token: str
    customer_id: str
    message_id: str
    base_url: str


def meta_receipt(
    *, platform: str, account_id: str, customer_id: str, message_id: str, status: str, at_ms: int
) -> dict:
    """Return the webhook delivery Meta sends when a message was delivered or read."""
    if status == "delivered":
        event = {"delivery": {"mids": [message_id], "watermark": at_ms}}
    elif platform == Platform.INSTAGRAM:
        event = {"read": {"mid": message_id}}
    else:
        event = {"read": {"watermark": at_ms}}
    messaging = {
        "sender": {"id": customer_id},
        "recipient": {"id": account_id},
        "timestamp": at_ms,
        **event,
    }
    return {
        "object": "instagram" if platform == Platform.INSTAGRAM else "page",
        "entry": [{"id": account_id, "time": at_ms, "messaging": [messaging]}],
    }


def receipts_post(job: ReceiptJob, *, session: requests.Session | None = None) -> list[int]:
    """Post the delivery, then the read receipt, signed with the channel's secret, to the
    channel's webhook on the server that called the sandbox; return the answers' statuses."""
    close_old_connections()
    try:
        channel = next(
            (
                c
                for c in Channel.objects.filter(
                    platform=job.platform, mode=Channel.Mode.SANDBOX, is_active=True
                )
                if c.access_token == job.token
            ),
            None,
        )
        if channel is None or not channel.app_secret:
            return []
        statuses = []
        for index, status in enumerate(("delivered", "read")):
            if index:
                time.sleep(settings.SANDBOX_RECEIPT_DELAYS[1] - settings.SANDBOX_RECEIPT_DELAYS[0])
            payload = meta_receipt(
                platform=job.platform,
                account_id=channel.account_id,
                customer_id=job.customer_id,
                message_id=job.message_id,
                status=status,
                at_ms=int(timezone.now().timestamp() * 1000),
            )
            body = json.dumps(payload, separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/json",
                **adapter_for(job.platform).signature_headers(body=body, secret=channel.app_secret),
            }
            response = (session or requests).post(
                f"{job.base_url}{channel.webhook_path()}",
                data=body,
                headers=headers,
                timeout=RECEIPT_POST_TIMEOUT_SECONDS,
            )
            statuses.append(response.status_code)
        return statuses
    except requests.RequestException:
        logger.warning("Sandbox receipts for %s could not be posted.", job.message_id)
        return []
    finally:
        close_old_connections()


def receipts_schedule(job: ReceiptJob) -> None:
    """Post the receipts a moment later, as the platform would, from a background thread."""
    timer = threading.Timer(settings.SANDBOX_RECEIPT_DELAYS[0], receipts_post, args=(job,))
    timer.daemon = True
    timer.start()


# Platform endpoints. Each answers like its platform; a path it does not know answers 404.


def _not_found(path: str) -> JsonResponse:
    return JsonResponse({"error": f"The sandbox does not serve {path}."}, status=404)


@csrf_exempt
async def meta_graph(request: HttpRequest, platform: str, path: str) -> JsonResponse:
    token = _bearer(request)
    if refusal := _gate(platform, token):
        return refusal
    body, parts = _body(request), path.strip("/").split("/")
    if request.method == "GET":
        return JsonResponse({"data": [], "paging": {}})
    if parts == ["me", "messages"]:
        mid = f"m_sbx_{uuid.uuid4().hex}"
        recipient = body.get("recipient") or {}
        if "id" in recipient:
            receipts_schedule(
                ReceiptJob(
                    platform=platform,
                    token=token,
                    customer_id=str(recipient["id"]),
                    message_id=mid,
                    base_url=request.build_absolute_uri("/").rstrip("/"),
                )
            )
        return JsonResponse({"recipient_id": str(recipient.get("id", "")), "message_id": mid})
    if len(parts) == 2 and parts[1] in ("comments", "replies", "mentions"):
        return JsonResponse({"id": f"{parts[0]}_{_new_id()}"})
    return _not_found(path)


@csrf_exempt
async def x_api(request: HttpRequest, path: str) -> JsonResponse:
    if refusal := _gate(Platform.X, _bearer(request)):
        return refusal
    body, parts = _body(request), path.strip("/").split("/")
    if request.method == "GET":
        return JsonResponse({"data": [], "meta": {"result_count": 0}})
    if parts[:3] == ["2", "dm_conversations", "with"] and parts[-1] == "messages":
        return JsonResponse(
            {"data": {"dm_conversation_id": f"{parts[3]}-sandbox", "dm_event_id": str(_new_id())}},
            status=201,
        )
    if parts == ["2", "tweets"]:
        return JsonResponse(
            {"data": {"id": str(_new_id()), "text": body.get("text", "")}}, status=201
        )
    return _not_found(path)


@csrf_exempt
async def linkedin_api(request: HttpRequest, path: str) -> JsonResponse:
    if refusal := _gate(Platform.LINKEDIN, _bearer(request)):
        return refusal
    body = _body(request)
    if request.method == "GET":
        return JsonResponse({"elements": [], "paging": {"start": 0, "count": 50, "links": []}})
    if path.startswith("rest/socialActions/") and path.endswith("/comments"):
        comment_id = _new_id()
        urn = f"urn:li:comment:({body.get('object', '')},{comment_id})"
        return JsonResponse(
            {"commentUrn": urn, "id": str(comment_id)}, status=201, headers={"x-restli-id": urn}
        )
    return _not_found(path)


@csrf_exempt
async def telegram_bot_api(request: HttpRequest, token: str, method: str) -> JsonResponse:
    if refusal := _gate(Platform.TELEGRAM, token):
        return refusal
    body = _body(request)
    if not method.startswith("send"):
        return JsonResponse(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )
    result = {
        "message_id": _new_id(),
        "date": int(time.time()),
        "chat": {"id": body.get("chat_id")},
    }
    return JsonResponse(
        {"ok": True, "result": {**result, **({"text": body["text"]} if "text" in body else {})}}
    )


def _bluesky_post(uri: str) -> dict:
    return {
        "uri": uri,
        "cid": f"bafyrei{hashlib.sha256(uri.encode()).hexdigest()[:52]}",
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "",
            "createdAt": timezone.now().isoformat(),
        },
    }


def _bluesky_send(request: HttpRequest, nsid: str) -> JsonResponse:
    body = _body(request)
    if nsid == "chat.bsky.convo.sendMessage":
        message = body.get("message") or {}
        return JsonResponse(
            {
                "id": str(_new_id()),
                "rev": str(_new_id()),
                "text": message.get("text", ""),
                "sender": {"did": "did:plc:sandbox"},
                "sentAt": timezone.now().isoformat(),
            }
        )
    if nsid == "com.atproto.repo.createRecord":
        uri = f"at://{body.get('repo')}/{body.get('collection')}/{body.get('rkey') or _new_id()}"
        cache.set(f"sandbox-platform.bluesky-record:{uri}", True, timeout=3600)
        return JsonResponse(_bluesky_post(uri) | {"record": None})
    if nsid == "com.atproto.repo.getRecord":
        uri = f"at://{request.GET.get('repo')}/{request.GET.get('collection')}/{request.GET.get('rkey')}"
        if cache.get(f"sandbox-platform.bluesky-record:{uri}"):
            return JsonResponse(_bluesky_post(uri))
        return JsonResponse(
            {"error": "RecordNotFound", "message": f"Could not locate record: {uri}"}, status=400
        )
    if nsid == "app.bsky.feed.getPosts":
        return JsonResponse({"posts": [_bluesky_post(uri) for uri in request.GET.getlist("uris")]})
    if nsid == "com.atproto.identity.resolveHandle":
        handle = request.GET.get("handle", "")
        return JsonResponse({"did": f"did:plc:{hashlib.sha256(handle.encode()).hexdigest()[:24]}"})
    return JsonResponse({"convos": [], "messages": []})  # listConvos, getMessages


BLUESKY_SEND_METHODS = {
    "chat.bsky.convo.sendMessage",
    "com.atproto.repo.createRecord",
    "com.atproto.repo.getRecord",
    "app.bsky.feed.getPosts",
    "com.atproto.identity.resolveHandle",
    "chat.bsky.convo.listConvos",
    "chat.bsky.convo.getMessages",
}


@csrf_exempt
async def bluesky_xrpc(request: HttpRequest, nsid: str) -> JsonResponse:
    """Serve the XRPC methods replies and sync use; the rest (sessions, the polled chat log
    and notifications) is the sandbox PDS's (sandbox.bluesky), which reads no
    database and is called directly."""
    if nsid not in BLUESKY_SEND_METHODS:
        return sandbox_bluesky.xrpc(request, nsid)
    if refusal := _gate(Platform.BLUESKY, _bearer(request)):
        return refusal
    return _bluesky_send(request, nsid)


async def stats(request: HttpRequest) -> JsonResponse:
    """Calls accepted, refused for the rate limit, and refused on purpose, since the last reset."""
    return JsonResponse(sandbox_stats(reset=request.GET.get("reset") == "1"))
