"""Call a channel's platform API: the client and credentials for a channel, the delivery of a
reply's parts through its adapter, and the channel's "needs attention" flag that permanent
credential errors raise.

No function here runs inside a database transaction: each platform call is network I/O.
"""

import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.db import transaction

from integrations.http import PlatformClient, TokenExpired
from integrations.models import Channel, Platform
from integrations.outbound import Account, OutboundReply
from integrations.platforms import adapter_for, bluesky

T = TypeVar("T")
# Bluesky access JWTs live about two hours and createSession is rate-limited: each process
# keeps a session per channel, in memory only (a credential is never written unencrypted).
SESSION_TTL_SECONDS = 30 * 60
_sessions: dict[int, tuple[str, float]] = {}


def channel_client(channel: Channel, **options) -> PlatformClient:
    """Return a client for the channel's account; `options` go to PlatformClient (tests pass
    `sleep`, `clock`, `jitter`)."""
    return PlatformClient(
        platform=channel.platform,
        account_id=channel.account_id,
        dialect=adapter_for(channel.platform).DIALECT,
        secrets=(channel.access_token, channel.app_secret, channel.verify_token),
        **options,
    )


def channel_account(channel: Channel, *, client: PlatformClient, fresh: bool = False) -> Account:
    """Return who calls the API. A Bluesky account calls with a session JWT, opened with the
    app password (again when `fresh`)."""
    base_url = channel.effective_api_base_url
    credential = channel.access_token
    if channel.platform == Platform.BLUESKY:
        cached = _sessions.get(channel.pk)
        if fresh or cached is None or cached[1] <= time.monotonic():
            jwt = bluesky.session_open(
                client=client,
                base_url=base_url,
                identifier=channel.account_id,
                password=channel.access_token,
            )
            cached = _sessions[channel.pk] = (jwt, time.monotonic() + SESSION_TTL_SECONDS)
        credential = cached[0]
        client.secrets += (credential,)
    return Account(
        channel_id=channel.pk,
        platform=channel.platform,
        account_id=channel.account_id,
        credential=credential,
        base_url=base_url,
    )


def account_call(channel: Channel, client: PlatformClient, call: Callable[[Account], T]) -> T:
    """Return `call(account)`, logging in again once if a session token expired."""
    try:
        return call(channel_account(channel, client=client))
    except TokenExpired:
        if channel.platform != Platform.BLUESKY:
            raise
        return call(channel_account(channel, client=client, fresh=True))


def reply_deliver(
    *,
    channel: Channel,
    reply: OutboundReply,
    sent_ids: list[str],
    record: Callable[[list[str]], None],
    now: datetime,
    client: PlatformClient | None = None,
) -> list[str]:
    """Check the reply, then send the parts after the `sent_ids` ones already accepted,
    handing the ids so far to `record` as soon as each part is accepted; return all ids.

    Raises ReplyRefused before any call for a reply the platform would refuse, and the
    client's PlatformError when a call fails.
    """
    adapter = adapter_for(channel.platform)
    adapter.reply_check(reply, now=now)
    client = client or channel_client(channel)
    ids = list(sent_ids)
    for part in adapter.reply_parts(reply)[len(ids) :]:
        ids.append(
            account_call(
                channel,
                client,
                lambda account, part=part: adapter.part_send(
                    client=client, account=account, reply=reply, part=part, now=now
                ),
            )
        )
        record(ids)
    return ids


@transaction.atomic
def channel_attention_flag(*, channel_id: int, reason: str) -> None:
    """Show in the admin that a person must act on the channel (renew a token, a permission)."""
    Channel.objects.filter(pk=channel_id).update(
        needs_attention=True, attention_reason=reason[:500]
    )


@transaction.atomic
def channel_attention_clear(*, channel_ids: list[int]) -> int:
    """Clear the flag once someone has fixed the channel; return how many were flagged."""
    return Channel.objects.filter(pk__in=channel_ids, needs_attention=True).update(
        needs_attention=False, attention_reason=""
    )
