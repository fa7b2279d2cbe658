"""Tell live consoles about changes, after the transaction that made them commits."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from uuid import uuid4

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from helpdesk.transactions import on_commit_call


def inbox_group(channel_id: int) -> str:
    return f"inbox.{channel_id}"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


ALL_INBOXES_GROUP = "inbox.all"


Broadcast = tuple[tuple[str, ...], dict]  # groups, event

# The broadcasts of the innermost `broadcasts_batched()` block, when one is open.
_batch: ContextVar[list[Broadcast] | None] = ContextVar("broadcast_batch", default=None)


async def _group_send_all(broadcasts: list[Broadcast]) -> None:
    layer = get_channel_layer()
    for groups, event in broadcasts:
        for group in groups:
            await layer.group_send(group, event)


def _send(broadcasts: list[Broadcast]) -> None:
    # One trip into the event loop for them all: from sync code each async_to_sync call
    # starts a loop in a new thread and, with channels-redis, a connection of its own.
    async_to_sync(_group_send_all)(broadcasts)


@contextmanager
def broadcasts_batched() -> Iterator[None]:
    """Send the broadcasts registered in this block in one trip once the transaction commits;
    none of them if the block raises. A block inside another hands its broadcasts to the
    outer one when it ends.

    Use it around a transaction, or around a savepoint whose failure the caller survives:
    a savepoint rolled back inside the block, while the block goes on, does not take back
    the broadcasts registered in it.
    """
    outer = _batch.get()
    batch: list[Broadcast] = []
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    if outer is not None:
        outer.extend(batch)
    elif batch:
        on_commit_call(_send, batch)


def broadcast_on_commit(
    *, event_type: str, channel_id: int, conversation_id: int, extra_groups: tuple[str, ...] = (), **ids: int | str
) -> None:
    """Send `event_type` to the channel's inbox, all-inboxes and conversation groups, and any
    `extra_groups` (an agent's, a team's), on commit.

    Events carry ids only; a console fetches what it shows through views that check access.
    Each carries an `event_id` too: a console in several of these groups receives the event
    once per group and acts on it once. A broadcast failure never undoes the change (robust
    on_commit): the console catches up on reconnect.
    """
    event = {
        "type": event_type, "event_id": uuid4().hex, "channel_id": channel_id, "conversation_id": conversation_id,
        **ids,
    }
    groups = (inbox_group(channel_id), ALL_INBOXES_GROUP, conversation_group(conversation_id), *extra_groups)
    batch = _batch.get()
    if batch is not None:
        batch.append((groups, event))
    else:
        on_commit_call(_send, [(groups, event)])
