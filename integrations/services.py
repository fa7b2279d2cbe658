"""Webhooks in: store each accepted delivery durably, then process it into the inbox."""

import json
import logging
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from helpdesk.transactions import on_commit_call
from inbox.broadcast import broadcasts_batched
from inbox.services import event_ingest, events_ingest
from inbox.services.sanitise import ItemRefused
from integrations.dispatch import enqueue_processing, processing_dispatch, processing_waiting
from integrations.models import Channel, WebhookEvent
from integrations.platforms import adapter_for
from integrations.platforms.base import (
    BadSignature,
    MalformedPayload,
    NormalizedEvent,
    UnknownChannel,
)
from integrations.selectors import APP_LEVEL_PLATFORMS, signing_channels

logger = logging.getLogger(__name__)

SWEEP_BATCH = 50
# Most events one batch takes (its task's own, plus pending ones queued behind them).
BATCH_MAX = 200
# An event in one of these was applied; processing it again changes nothing.
DONE_STATUSES = (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED)

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


class _Unparseable(Exception):
    """A stored delivery that parsing refuses: the same bytes will never parse, so it is not retried."""


Items = list[tuple[Channel, NormalizedEvent]]


def _event_items(event: WebhookEvent, *, channels: dict[tuple[str, str], Channel | None]) -> Items:
    """Parse a stored delivery into its normalized events, each with the channel it is for
    (app-level deliveries name an account per event; `channels` caches them for a batch)."""
    fixed = event.channel
    try:
        parsed = adapter_for(event.platform).parse(
            json.loads(event.body), account_id=fixed.account_id if fixed else ""
        )
    except (ValueError, MalformedPayload) as exc:  # JSONDecodeError is a ValueError
        raise _Unparseable(f"{type(exc).__name__}: {exc}") from exc
    items = []
    for normalized in parsed:
        if fixed is None:
            key = (event.platform, normalized.account_id)
            if key not in channels:
                channels[key] = Channel.objects.filter(
                    platform__in=APP_LEVEL_PLATFORMS[event.platform], account_id=normalized.account_id, is_active=True
                ).first()
            channel = channels[key]
        else:
            channel = fixed
        if channel is not None:
            items.append((channel, normalized))
    return items


def _items_note(items: Items, refusals: list[tuple[int, str]]) -> str:
    """Name the items a delivery could not store, and why, for the event's error field."""
    return "; ".join(
        f"item {index + 1} ({getattr(items[index][1], 'platform_message_id', '') or type(items[index][1]).__name__}): "
        f"{reason}"
        for index, reason in refusals
    )[:2000]


def webhook_events_process(*, event_ids: list[int], now: datetime | None = None) -> dict[int, str]:
    """Process the stored events that arrived together as one batch; return each one's new status.

    Their normalized events are ingested set-wise in one transaction, with the events' new
    statuses. If the batch fails (a race lost to a concurrent worker, a bug in one item), it
    is rolled back whole and each event is processed on its own instead.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic(), broadcasts_batched():  # one trip to the consoles per batch
            return _batch_process(event_ids, now=now)
    except Exception:  # noqa: BLE001  (each event is then processed, and its failure recorded, alone)
        logger.warning("Batch of webhook events %s failed; processing them one by one", event_ids, exc_info=True)
    return {event_id: webhook_event_process(event_id=event_id, now=now) for event_id in event_ids}


def _batch_process(event_ids: list[int], *, now: datetime) -> dict[int, str]:
    # SKIP LOCKED: an event another worker is processing right now (a redelivered task, the
    # sweeper's) is that worker's; it is done when that worker commits.
    pending = WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",)).select_related("channel")
    events = list(pending.filter(pk__in=event_ids).exclude(status__in=DONE_STATUSES).order_by("pk"))
    if connection.vendor == "postgresql" and len(events) < BATCH_MAX:
        # Under a backlog, take the pending events queued behind this task's too: a batch's
        # cost is mostly per batch, so the backlog drains faster, and their own tasks find
        # them done (or locked by this worker, and skip them).
        events += pending.filter(status=WebhookEvent.Status.PENDING, attempts=0).exclude(
            pk__in=[event.pk for event in events]
        ).order_by("pk")[: BATCH_MAX - len(events)]
    channels: dict[tuple[str, str], Channel | None] = {}
    unparseable: dict[WebhookEvent, str] = {}
    spans: list[tuple[WebhookEvent, int, int]] = []
    items: Items = []
    for event in events:
        try:
            event_items = _event_items(event, channels=channels)
        except _Unparseable as exc:
            unparseable[event] = str(exc)
            continue
        spans.append((event, len(items), len(items) + len(event_items)))
        items.extend(event_items)
    results = events_ingest(items=items, now=now)
    statuses: dict[int, str] = {}
    for event, reason in unparseable.items():
        statuses[event.pk] = _event_failed(event, error=reason, final=True)
    done: dict[str, list[int]] = {WebhookEvent.Status.PROCESSED: [], WebhookEvent.Status.IGNORED: []}
    for event, start, end in spans:
        status = WebhookEvent.Status.PROCESSED if any(r.acted for r in results[start:end]) else WebhookEvent.Status.IGNORED
        refusals = [(index - start, r.refused) for index, r in enumerate(results[start:end], start) if r.refused]
        if refusals:
            _event_done(event.pk, status=status, error=_items_note(items[start:end], refusals), now=now)
        else:
            done[status].append(event.pk)
        statuses[event.pk] = status
    for status, pks in done.items():
        if pks:
            WebhookEvent.objects.filter(pk__in=pks).update(
                status=status, attempts=F("attempts") + 1, error="", processed_at=now
            )
    return statuses


def _event_done(event_id: int, *, status: str, error: str, now: datetime) -> None:
    WebhookEvent.objects.filter(pk=event_id).update(
        status=status, attempts=F("attempts") + 1, error=error, processed_at=now
    )


def _event_failed(event: WebhookEvent, *, error: str, final: bool) -> str:
    """Record a failed attempt: the event is retried by the sweeper, unless `final` or out of attempts."""
    attempts = event.attempts + 1
    out = final or attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    status = WebhookEvent.Status.FAILED if out else WebhookEvent.Status.PENDING
    WebhookEvent.objects.filter(pk=event.pk).update(status=status, attempts=attempts, error=error[:2000])
    return status


def webhook_event_process(*, event_id: int, now: datetime | None = None) -> str | None:
    """Parse a stored event and ingest what it says, each normalized event on its own; return
    the event's new status.

    Safe to run twice or concurrently: ingest is idempotent. An item that fails is rolled back
    to its savepoint and named on the event, which is retried by the sweeper (the items already
    stored are found again) until WEBHOOK_MAX_ATTEMPTS, then left `failed`. An item refused
    for good (an id too long to store) is named, not retried; a delivery that cannot be
    parsed fails at once.
    """
    now = now or timezone.now()
    event = WebhookEvent.objects.select_related("channel").filter(pk=event_id).first()
    if event is None or event.status in DONE_STATUSES:
        return None if event is None else event.status
    try:
        items = _event_items(event, channels={})
    except _Unparseable as exc:
        return _event_failed(event, error=str(exc), final=True)
    refusals: list[tuple[int, str]] = []
    failures: list[tuple[int, str]] = []
    with transaction.atomic(), broadcasts_batched():
        acted = False
        for index, (channel, normalized) in enumerate(items):
            try:
                # A savepoint per item, and its broadcasts dropped with it: one bad item must
                # not take the good ones of its delivery down.
                with broadcasts_batched(), transaction.atomic():
                    acted = event_ingest(channel=channel, event=normalized, now=now) or acted
            except ItemRefused as exc:
                refusals.append((index, exc.message))
            except Exception as exc:  # noqa: BLE001  (named on the event, which is retried)
                logger.exception("Item %s of webhook event %s failed", index + 1, event.pk)
                failures.append((index, f"{type(exc).__name__}: {exc}"))
        if not failures:
            status = WebhookEvent.Status.PROCESSED if acted else WebhookEvent.Status.IGNORED
            # In the same transaction: the event is marked done exactly when its effects commit.
            _event_done(event.pk, status=status, error=_items_note(items, refusals), now=now)
            return status
    return _event_failed(event, error=_items_note(items, failures + refusals), final=False)


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
