import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests import factories

ROME = ZoneInfo("Europe/Rome")
# A Monday morning in June: no DST change nearby unless a test picks one.
T0 = datetime(2026, 6, 8, 9, 0, tzinfo=ROME)


@pytest.fixture
def broadcasts(monkeypatch):
    """Record the events sent to consoles (after commit) instead of sending them."""
    sent: list[dict] = []
    lock = threading.Lock()

    def record(broadcasts):
        with lock:
            sent.extend(
                {key: value for key, value in event.items() if key != "event_id"}
                for _groups, event in broadcasts
            )

    monkeypatch.setattr("inbox.broadcast._send", record)
    return sent


@pytest.fixture
def policy(db):
    """The default policy, on wall-clock time: first response 60, next 30, resolution 480 min."""
    return factories.sla_policy(is_default=True)


@pytest.fixture
def conversation(db):
    return factories.conversation(now=T0)
