"""Multi-account sync: list the conversations of many accounts at once, and backfill an
account's history through the same idempotent ingest as webhooks.

The listing asks every account concurrently, one thread each, and waits at most
SYNC_ACCOUNT_TIMEOUT_SECONDS for any of them: a slow or broken account is reported as failed
(with the platform's error code and retry-after) and never holds the others back. Threads
only make HTTP calls; credentials are read, and results stored, in the calling thread.

Backfilled messages are ingested directly (`event_ingest`), page by page, rather than stored
as webhook events first: unlike a webhook delivery, a history page can be fetched again, so
the platform itself is the durable copy, and a crashed backfill is simply run again (ingest
is idempotent on the platform message id).
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from inbox.models import Message
from inbox.services import event_ingest
from integrations.http import CredentialsRejected, PlatformClient, PlatformError
from integrations.models import Channel
from integrations.outbound import RemoteConversation, SyncUnsupported
from integrations.platforms import adapter_for
from integrations.sending import account_call, channel_attention_flag, channel_client

MAX_THREADS = 32
LAST_SYNC_KEY = "integrations.sync.last:{channel_id}"


@dataclass(frozen=True)
class AccountFailure:
    channel_id: int
    platform: str
    code: str
    message: str
    retry_after: float | None = None


@dataclass
class SyncOverview:
    """Conversations of every account queried, newest activity first, and what failed."""

    conversations: list[RemoteConversation] = field(default_factory=list)
    accounts_queried: list[int] = field(default_factory=list)
    accounts_failed: list[AccountFailure] = field(default_factory=list)
    accounts_unsupported: list[int] = field(default_factory=list)


def sync_channels(
    *, team_id: int | None = None, channel_ids: list[int] | None = None
) -> list[Channel]:
    """Return the active channels to sync: a team's, the given ones, or all."""
    channels = Channel.objects.filter(is_active=True)
    if team_id is not None:
        channels = channels.filter(teams__id=team_id)
    if channel_ids:
        channels = channels.filter(pk__in=channel_ids)
    return list(channels.order_by("pk"))


def _account_conversations(
    channel: Channel, client: PlatformClient, since: datetime
) -> list[RemoteConversation]:
    adapter = adapter_for(channel.platform)
    return account_call(
        channel,
        client,
        lambda account: adapter.fetch_conversations(client=client, account=account, since=since),
    )


def conversations_overview(
    *,
    channels: list[Channel],
    since: datetime,
    timeout: float | None = None,
    client_for: Callable[[Channel], PlatformClient] = channel_client,
    now: datetime | None = None,
) -> SyncOverview:
    """Ask every channel's account for its conversations since `since`, concurrently; merge
    them, one per platform conversation id, newest activity first."""
    timeout = settings.SYNC_ACCOUNT_TIMEOUT_SECONDS if timeout is None else timeout
    overview = SyncOverview(accounts_queried=[channel.pk for channel in channels])
    if not channels:
        return overview
    pool = ThreadPoolExecutor(
        max_workers=min(MAX_THREADS, len(channels)), thread_name_prefix="sync"
    )
    futures = {
        channel.pk: pool.submit(
            _account_conversations, channel, client_for(channel, timeout=(timeout, timeout)), since
        )
        for channel in channels
    }
    deadline = time.monotonic() + timeout
    merged: dict[tuple[str, str], RemoteConversation] = {}
    try:
        for channel in channels:
            try:
                found = futures[channel.pk].result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                overview.accounts_failed.append(
                    AccountFailure(
                        channel_id=channel.pk,
                        platform=channel.platform,
                        code="timeout",
                        message=f"No answer within {timeout:g} s.",
                    )
                )
                continue
            except SyncUnsupported:
                overview.accounts_unsupported.append(channel.pk)
                continue
            except PlatformError as exc:
                overview.accounts_failed.append(_failure(channel, exc))
                continue
            for conversation in found:
                key = (conversation.platform, conversation.platform_conversation_id)
                if (
                    key not in merged
                    or conversation.last_activity_at > merged[key].last_activity_at
                ):
                    merged[key] = conversation
    finally:
        # A thread still blocked on its account is left to its own HTTP timeout.
        pool.shutdown(wait=False, cancel_futures=True)
    overview.conversations = sorted(merged.values(), key=lambda c: c.last_activity_at, reverse=True)
    _last_syncs_store(overview, now=now or timezone.now())
    return overview


def _failure(channel: Channel, exc: PlatformError) -> AccountFailure:
    if isinstance(exc, CredentialsRejected):
        channel_attention_flag(channel_id=channel.pk, reason=exc.message)
    return AccountFailure(
        channel_id=channel.pk,
        platform=channel.platform,
        code=exc.platform_code or exc.code,
        message=exc.message,
        retry_after=exc.retry_after,
    )


def _last_syncs_store(overview: SyncOverview, *, now: datetime) -> None:
    """Remember each channel's last sync for GET /api/v1/sync/ (in the cache: Redis in
    production, so every process sees it; per process in the embedded setup)."""
    failures = {failure.channel_id: failure for failure in overview.accounts_failed}
    counts: dict[int, int] = {}
    for conversation in overview.conversations:
        counts[conversation.channel_id] = counts.get(conversation.channel_id, 0) + 1
    records = {}
    for channel_id in overview.accounts_queried:
        record = {
            "channel_id": channel_id,
            "synced_at": now.isoformat(),
            "status": "ok",
            "conversations": counts.get(channel_id, 0),
        }
        if channel_id in failures:
            failure = asdict(failures[channel_id])
            record.update(
                status="failed",
                error_code=failure["code"],
                message=failure["message"],
                retry_after=failure["retry_after"],
            )
        elif channel_id in overview.accounts_unsupported:
            record["status"] = "unsupported"
        records[LAST_SYNC_KEY.format(channel_id=channel_id)] = record
    cache.set_many(records, timeout=None)


def last_syncs(*, channels: list[Channel]) -> list[dict]:
    """Return each channel's last sync record (never synced: status "never")."""
    stored = cache.get_many([LAST_SYNC_KEY.format(channel_id=channel.pk) for channel in channels])
    return [
        {
            "channel_id": channel.pk,
            "platform": channel.platform,
            "name": channel.name,
            "needs_attention": channel.needs_attention,
            **stored.get(LAST_SYNC_KEY.format(channel_id=channel.pk), {"status": "never"}),
        }
        for channel in channels
    ]


@dataclass(frozen=True)
class BackfillReport:
    conversations: int
    messages_ingested: int


def channel_backfill(
    *,
    channel: Channel,
    since: datetime,
    client: PlatformClient | None = None,
    now: datetime | None = None,
) -> BackfillReport:
    """Ingest the channel's conversations and messages since `since`; return the counts.

    Each conversation is ingested oldest message first, in one transaction, so threads are
    created with their first message and a crash leaves whole conversations.
    """
    client = client or channel_client(channel)
    adapter = adapter_for(channel.platform)
    conversations = _account_conversations(channel, client, since)
    stored_before = Message.objects.filter(channel=channel).count()
    for conversation in conversations:
        events = []
        cursor: str | None = None
        while True:
            page = account_call(
                channel,
                client,
                lambda account, c=cursor, conv=conversation: adapter.fetch_messages(
                    client=client, account=account, conversation=conv, cursor=c
                ),
            )
            fresh = [
                event
                for event in page.events
                if _timestamp(event) is None or _timestamp(event) >= since
            ]
            events.extend(fresh)
            cursor = page.cursor
            if cursor is None or len(fresh) < len(page.events):
                break  # pages come newest first: the rest is older than `since`
        with transaction.atomic():
            for event in sorted(events, key=lambda e: _timestamp(e) or since):
                event_ingest(channel=channel, event=event, now=now)
    ingested = Message.objects.filter(channel=channel).count() - stored_before
    return BackfillReport(conversations=len(conversations), messages_ingested=ingested)


def _timestamp(event) -> datetime | None:
    return getattr(event, "timestamp", None)
