"""Webhooks in: store each accepted delivery durably, then process it into the inbox."""

import json
import logging
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from helpdesk.transactions import on_commit_call
from inbox.broadcast import broadcasts_batched
from inbox.services import event_ingest
from integrations.dispatch import enqueue_processing, processing_dispatch, processing_waiting
from integrations.models import Channel, WebhookEvent
from integrations.platforms import adapter_for
from integrations.platforms.base import BadSignature, MalformedPayload, UnknownChannel
from integrations.selectors import APP_LEVEL_PLATFORMS, signing_channels

logger = logging.getLogger(__name__)

SWEEP_BATCH = 50

# Headers kept with each event: enough to re-verify and debug a delivery, nothing else.
KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    "X-Hub-Signature-256",
    "X-Twitter-Webhooks-Signature",
    "X-LI-Signature",
)


def _payload(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedPayload("The body must be a JSON object.")
    return payload


def _verified_channels(*, platform: str, candidates: list[Channel], body: bytes, headers: Mapping[str, str]) -> list[Channel]:
    adapter = adapter_for(platform)
    return [c for c in candidates if c.app_secret and adapter.verify(body=body, headers=headers, secret=c.app_secret)]


def webhook_event_receive(
    *, platform: str, body: bytes, headers: Mapping[str, str], channel: Channel | None = None,
    now: datetime | None = None,
) -> WebhookEvent:
    """Verify a delivery and store it as a pending event; processing is enqueued on commit.

    `channel` is given when the URL names it (Telegram); app-level deliveries are verified with
    the secrets of the platform's active channels, and must name at least one of the channels
    whose secret signed them.
    """
    candidates = [channel] if channel is not None else signing_channels(platforms=APP_LEVEL_PLATFORMS[platform])
    if not candidates:
        raise UnknownChannel(f"No active {platform} channel is connected.")
    verified = _verified_channels(platform=platform, candidates=candidates, body=body, headers=headers)
    if not verified:
        raise BadSignature("The signature is missing or does not match.")
    payload = _payload(body)
    if channel is None:
        named = adapter_for(platform).account_ids(payload)
        matched = [c for c in verified if c.account_id in named]
        if named and not matched:
            raise UnknownChannel(f"No active channel for account {', '.join(sorted(named))}.")
        channel = matched[0] if len(matched) == 1 else None
    return _webhook_event_store(
        platform=platform, channel=channel, body=body.decode(),
        headers={name: headers[name] for name in KEPT_HEADERS if name in headers},
        source=WebhookEvent.Source.WEBHOOK, now=now or timezone.now(),
    )


def _webhook_event_store(*, platform: str, channel: Channel | None, body: str, headers: dict, source: str,
                         now: datetime) -> WebhookEvent:
    # One INSERT, committed on its own unless the caller holds a transaction: the platform
    # gets its answer as soon as the row is durable.
    event = WebhookEvent.objects.create(
        platform=platform, channel=channel, body=body, headers=headers, source=source, received_at=now,
        enqueued_at=now,
    )
    on_commit_call(processing_dispatch, event.pk)
    return event


class PollOverlapped(Exception):
    """Another poll of the channel moved its cursor since this one read it."""


def polled_page_store(*, channel: Channel, body: dict, poll_state: dict, now: datetime | None = None) -> WebhookEvent:
    """Store one polled page as an event and advance the channel's cursor in the same
    transaction, so a crash can neither skip a page nor lose the cursor. Raise PollOverlapped,
    storing nothing, if another poll moved the cursor since this one read `channel.poll_state`."""
    now = now or timezone.now()
    with transaction.atomic():
        poll_state_save(channel=channel, poll_state=poll_state)
        return _webhook_event_store(
            platform=channel.platform, channel=channel, body=json.dumps(body), headers={},
            source=WebhookEvent.Source.POLL, now=now,
        )


@transaction.atomic
def poll_state_save(*, channel: Channel, poll_state: dict) -> None:
    """Move the channel's cursor from `channel.poll_state` (what this poll read) to
    `poll_state`; raise PollOverlapped if another poll moved it in between."""
    # Compare and set under the row lock: two overlapping polls (a slow one and the next
    # beat's) read the same cursor and fetch the same page; the first to store it wins, and
    # the other must neither store the page again nor move the cursor back.
    current = Channel.objects.select_for_update().filter(pk=channel.pk).values_list("poll_state", flat=True).get()
    if current != channel.poll_state:
        raise PollOverlapped(f"Another poll of channel {channel.pk} moved its cursor.")
    Channel.objects.filter(pk=channel.pk).update(poll_state=poll_state)
    channel.poll_state = poll_state


def _channel_for(event, *, fixed: Channel | None, platform: str, cache: dict[str, Channel | None]) -> Channel | None:
    if fixed is not None:
        return fixed
    if event.account_id not in cache:
        cache[event.account_id] = Channel.objects.filter(
            platform__in=APP_LEVEL_PLATFORMS[platform], account_id=event.account_id, is_active=True
        ).first()
    return cache[event.account_id]


def webhook_event_process(*, event_id: int, now: datetime | None = None) -> str | None:
    """Parse a stored event and ingest what it says; return its new status.

    Safe to run twice or concurrently: ingest is idempotent. A failure is recorded on the
    event; it is retried by the sweeper until WEBHOOK_MAX_ATTEMPTS, then left `failed`.
    """
    now = now or timezone.now()
    event = WebhookEvent.objects.select_related("channel").filter(pk=event_id).first()
    if event is None or event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
        return None if event is None else event.status
    try:
        with transaction.atomic(), broadcasts_batched():  # one trip to the consoles per delivery
            acted = _events_ingest(event, now=now)
            status = WebhookEvent.Status.PROCESSED if acted else WebhookEvent.Status.IGNORED
            # In the same transaction: the event is marked done exactly when its effects commit.
            WebhookEvent.objects.filter(pk=event.pk).update(
                status=status, attempts=F("attempts") + 1, error="", processed_at=now
            )
    except Exception as exc:  # noqa: BLE001  (recorded on the event, which is retried or replayed)
        logger.exception("Webhook event %s failed", event.pk)
        attempts = event.attempts + 1
        status = WebhookEvent.Status.FAILED if attempts >= settings.WEBHOOK_MAX_ATTEMPTS else WebhookEvent.Status.PENDING
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=status, attempts=attempts, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
    return status


def _events_ingest(event: WebhookEvent, *, now: datetime) -> bool:
    """Ingest every normalized event of a stored delivery; return whether any changed the inbox."""
    fixed = event.channel
    parsed = adapter_for(event.platform).parse(json.loads(event.body), account_id=fixed.account_id if fixed else "")
    channels: dict[str, Channel | None] = {}
    acted = False
    for normalized in parsed:
        channel = _channel_for(normalized, fixed=fixed, platform=event.platform, cache=channels)
        if channel is not None:
            acted = event_ingest(channel=channel, event=normalized, now=now) or acted
    return acted


def webhook_events_take(*, event_ids: list[int], now: datetime | None = None) -> None:
    """Record that a worker took these events: the sweeper leaves them alone for
    WEBHOOK_SWEEP_AFTER from now, then assumes the worker died with them."""
    WebhookEvent.objects.filter(pk__in=event_ids, status=WebhookEvent.Status.PENDING).update(
        enqueued_at=now or timezone.now()
    )


def webhook_events_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue pending events whose processing was never enqueued or got lost (broker down or
    restarted, worker killed); return how many were enqueued.

    An event that waits in the broker's queue is not lost, however long the backlog: events
    handed to the broker are swept only while nothing waits in the queue, and only
    WEBHOOK_SWEEP_AFTER after they were handed over or taken by a worker. Events the broker
    refused (`enqueued_at` cleared) are swept at once.
    """
    now = now or timezone.now()
    lost = Q(enqueued_at__isnull=True)
    if processing_waiting() == 0:
        lost |= Q(enqueued_at__lte=now - settings.WEBHOOK_SWEEP_AFTER)
    stale = list(
        WebhookEvent.objects.filter(lost, status=WebhookEvent.Status.PENDING)
        .order_by("enqueued_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    WebhookEvent.objects.filter(pk__in=stale).update(enqueued_at=now)
    for start in range(0, len(stale), SWEEP_BATCH):
        enqueue_processing(stale[start : start + SWEEP_BATCH])
    return len(stale)


def webhook_events_replay(*, events, now: datetime | None = None) -> dict[str, int]:
    """Process the given events again, whatever their status; return a count per outcome.

    Replaying is harmless for events already processed: ingest never stores a message twice.
    """
    outcomes: dict[str, int] = {}
    for event_id in events.order_by("received_at", "pk").values_list("pk", flat=True).iterator():
        WebhookEvent.objects.filter(pk=event_id).update(status=WebhookEvent.Status.PENDING)
        status = webhook_event_process(event_id=event_id, now=now)
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes
