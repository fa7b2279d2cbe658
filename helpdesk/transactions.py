"""Work that runs once the current transaction commits: one robust helper for every app."""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def on_commit_call(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Call `func(*args, **kwargs)` once the current transaction commits (at once outside one).

    Robust: an error in it is logged and never undoes the committed change, nor keeps the
    hooks registered after it from running. The hook is a named function because Django logs
    a failing hook by its `__qualname__`, which a `functools.partial` lacks (the logging
    itself then raises and skips the later hooks).
    """

    def hook() -> None:
        func(*args, **kwargs)

    hook.__qualname__ = hook.__name__ = getattr(func, "__qualname__", None) or repr(func)
    transaction.on_commit(hook, robust=True)


def enqueue_on_commit(task: Any, /, **kwargs: Any) -> None:
    """Publish the Celery `task` with these keyword arguments once the transaction commits.

    If the broker cannot be reached the work is not lost: every task enqueued this way has a
    sweeper that finds its rows still waiting, so a warning is enough here.
    """
    on_commit_call(_publish, task, kwargs)


def _publish(task: Any, kwargs: dict[str, Any]) -> None:
    from kombu.exceptions import OperationalError

    try:
        task.delay(**kwargs)
    except (OperationalError, OSError):
        logger.warning("Broker unreachable: %s(%s) is left to its sweeper.", task.name, kwargs, exc_info=True)
