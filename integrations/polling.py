"""Polling for platforms without webhooks (Bluesky): fetch new pages with a stored cursor and
feed them through the same durable path as webhooks (a stored event, processed by a task)."""

import logging
import time

from integrations.models import Channel, Platform
from integrations.platforms import bluesky
from integrations.platforms.timeconv import from_iso
from integrations.services import polled_page_store

logger = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 10
# Access JWTs live about two hours; re-login well before, and createSession is rate-limited,
# so each worker process keeps its session instead of logging in on every poll. Kept in
# memory only: a credential is never written to the cache or the database unencrypted.
SESSION_TTL_SECONDS = 30 * 60
_sessions: dict[int, tuple[str, float]] = {}


def _access_jwt(channel: Channel, *, fresh: bool = False) -> str:
    cached = _sessions.get(channel.pk)
    if cached and not fresh and cached[1] > time.monotonic():
        return cached[0]
    jwt = bluesky.create_session(
        base_url=channel.effective_api_base_url, identifier=channel.account_id, password=channel.access_token
    )
    _sessions[channel.pk] = (jwt, time.monotonic() + SESSION_TTL_SECONDS)
    return jwt


def _with_session(channel: Channel, call):
    """Call `call(jwt)`, logging in again once if the platform says the token expired."""
    try:
        return call(_access_jwt(channel))
    except bluesky.BlueskyError as exc:
        if exc.status not in (400, 401):
            raise
        return call(_access_jwt(channel, fresh=True))


def _poll_chat(channel: Channel, state: dict) -> int:
    """Store new chat-log entries; return how many pages were stored."""
    stored = 0
    for _ in range(MAX_PAGES_PER_POLL):
        cursor = state.get("chat_cursor")
        page = _with_session(channel, lambda jwt, c=cursor: bluesky.get_log(
            base_url=channel.effective_api_base_url, access_jwt=jwt, cursor=c))
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
            _state_save(channel, state)
            return stored
        polled_page_store(channel=channel, body={"stream": "chat", "page": fresh}, poll_state=state)
        stored += 1
        if state["chat_cursor"] == cursor:
            return stored
    return stored


def _poll_notifications(channel: Channel, state: dict) -> int:
    """Store mentions, replies and quotes newer than the last seen; return pages stored."""
    seen_at = state.get("notifications_seen_at", "")
    collected: list[dict] = []
    cursor = None
    # Without a high-water mark, take only the newest page: the recent mentions of a newly
    # connected account, not its whole history.
    for _ in range(MAX_PAGES_PER_POLL if seen_at else 1):
        page = _with_session(channel, lambda jwt, c=cursor: bluesky.list_notifications(
            base_url=channel.effective_api_base_url, access_jwt=jwt, cursor=c))
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


def _state_save(channel: Channel, state: dict) -> None:
    Channel.objects.filter(pk=channel.pk).update(poll_state=state)
    channel.poll_state = state


def bluesky_channel_poll(*, channel_id: int) -> int:
    """Poll one Bluesky channel's chat log and notifications; return the pages stored.

    Each page is stored with the advanced cursor in one transaction, so a crash between
    pages resumes exactly where it stopped, and a page is never skipped.
    """
    channel = Channel.objects.filter(pk=channel_id, platform=Platform.BLUESKY, is_active=True).first()
    if channel is None:
        return 0
    try:
        stored = _poll_chat(channel, dict(channel.poll_state))
        stored += _poll_notifications(channel, dict(channel.poll_state))
    except bluesky.BlueskyError as exc:
        if exc.status in (400, 401, 403):
            Channel.objects.filter(pk=channel.pk).update(
                needs_attention=True, attention_reason=f"Bluesky refused the credentials: {exc}"[:500]
            )
        raise
    if channel.needs_attention:
        Channel.objects.filter(pk=channel.pk).update(needs_attention=False, attention_reason="")
    return stored


def bluesky_channel_ids() -> list[int]:
    return list(Channel.objects.filter(platform=Platform.BLUESKY, is_active=True).values_list("pk", flat=True))

