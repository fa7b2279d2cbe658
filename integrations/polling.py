"""Polling for platforms without webhooks (Bluesky): fetch new pages with a stored cursor and
feed them through the same durable path as webhooks (a stored event, processed by a task).

Calls go through the shared platform client (retries, the account's call budget) with the
channel's session, like replies do (integrations.sending)."""

import logging

from integrations.http import CredentialsRejected, PlatformClient
from integrations.models import Channel, Platform
from integrations.platforms import bluesky
from integrations.platforms.timeconv import from_iso
from integrations.sending import (
    account_call,
    channel_attention_clear,
    channel_attention_flag,
    channel_client,
)
from integrations.services import PollOverlapped, poll_state_save, polled_page_store

logger = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 10


def _poll_chat(channel: Channel, client: PlatformClient, state: dict) -> int:
    """Store new chat-log entries; return how many pages were stored."""
    stored = 0
    for _ in range(MAX_PAGES_PER_POLL):
        cursor = state.get("chat_cursor")
        page = account_call(
            channel, client, lambda account, c=cursor: bluesky.get_log(client=client, account=account, cursor=c)
        )
        first_poll = "chat_cursor" not in state
        fresh = bluesky.new_log_entries(page, after_rev=state.get("chat_rev", ""))
        state = {
            **state,
            "chat_cursor": page.get("cursor") or cursor,
            "chat_rev": max(state.get("chat_rev", ""), bluesky.max_rev(page)),
        }
        if first_poll or not fresh["logs"]:
            # The first call only learns where the log is now: history before the channel
            # was connected is not a live conversation.
            poll_state_save(channel=channel, poll_state=state)
            return stored
        polled_page_store(channel=channel, body={"stream": "chat", "page": fresh}, poll_state=state)
        stored += 1
        if state["chat_cursor"] == cursor:
            return stored
    return stored


def _poll_notifications(channel: Channel, client: PlatformClient, state: dict) -> int:
    """Store mentions, replies and quotes newer than the last seen; return pages stored."""
    seen_at = state.get("notifications_seen_at", "")
    collected: list[dict] = []
    cursor = None
    # Without a high-water mark, take only the newest page: the recent mentions of a newly
    # connected account, not its whole history.
    for _ in range(MAX_PAGES_PER_POLL if seen_at else 1):
        page = account_call(
            channel,
            client,
            lambda account, c=cursor: bluesky.list_notifications(client=client, account=account, cursor=c),
        )
        newer, reached_seen = bluesky.notifications_newer_than(page, seen_at=seen_at)
        collected.extend(newer)
        cursor = page.get("cursor")
        if reached_seen or not cursor or not page.get("notifications"):
            break
    if not collected:
        return 0
    newest = max(collected, key=lambda item: from_iso(item["indexedAt"]))["indexedAt"]
    state = {**state, "notifications_seen_at": newest}
    polled_page_store(
        channel=channel, body={"stream": "notifications", "page": {"notifications": collected}}, poll_state=state
    )
    return 1


def bluesky_channel_poll(*, channel_id: int) -> int:
    """Poll one Bluesky channel's chat log and notifications; return the pages stored.

    Each page is stored with the advanced cursor in one transaction, so a crash between
    pages resumes exactly where it stopped, and a page is never skipped. A poll that overlaps
    another of the same channel stops at its first page the other stored already.
    """
    channel = Channel.objects.filter(pk=channel_id, platform=Platform.BLUESKY, is_active=True).first()
    if channel is None:
        return 0
    client = channel_client(channel)
    try:
        stored = _poll_chat(channel, client, dict(channel.poll_state))
        stored += _poll_notifications(channel, client, dict(channel.poll_state))
    except CredentialsRejected as exc:
        channel_attention_flag(channel_id=channel.pk, reason=exc.message)
        raise
    except PollOverlapped:
        logger.info("Bluesky channel %s: another poll got there first.", channel.pk)
        return 0
    if channel.needs_attention:
        channel_attention_clear(channel_ids=[channel.pk])
    return stored


def bluesky_channel_ids() -> list[int]:
    return list(Channel.objects.filter(platform=Platform.BLUESKY, is_active=True).values_list("pk", flat=True))

