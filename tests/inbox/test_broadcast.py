"""Broadcasts registered in a `broadcasts_batched()` block reach consoles in one trip after
commit; a block that fails sends none of its own."""

import pytest
from django.db import transaction

from inbox import broadcast
from inbox.broadcast import broadcast_on_commit, broadcasts_batched

pytestmark = pytest.mark.django_db


def announce(conversation_id: int) -> None:
    broadcast_on_commit(event_type="conversation.changed", channel_id=1, conversation_id=conversation_id)


TRIPS: list[list[int]] = []


@pytest.fixture(autouse=True)
def _trips_recorded(monkeypatch):
    """Record each trip to the channel layer as the conversation ids it carries."""
    TRIPS.clear()
    monkeypatch.setattr(broadcast, "_send", lambda batch: TRIPS.append([e["conversation_id"] for _g, e in batch]))


def sent(callbacks) -> list[list[int]]:
    """Run the committed callbacks; return the trips they made to the layer."""
    for callback in callbacks:
        callback()
    return TRIPS


def test_without_a_block_each_broadcast_is_its_own_trip(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        announce(1)
        announce(2)
    assert sent(callbacks) == [[1], [2]]


def test_a_block_sends_its_broadcasts_together_and_an_inner_block_joins_the_outer(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic(), broadcasts_batched():
        announce(1)
        with broadcasts_batched():
            announce(2)
        announce(3)
    assert sent(callbacks) == [[1, 2, 3]]


def test_a_failed_inner_block_takes_back_only_its_own(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic(), broadcasts_batched():
        announce(1)
        with pytest.raises(RuntimeError), broadcasts_batched(), transaction.atomic():
            announce(2)
            raise RuntimeError("rolled back")
        announce(3)
    assert sent(callbacks) == [[1, 3]]


def test_a_failed_transaction_sends_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
        broadcasts_batched(),
    ):
        announce(1)
        raise RuntimeError("rolled back")
    assert callbacks == []
