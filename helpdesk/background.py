"""Threads of the web process that work through a queue off the request path.

The embedded default (no REDIS_URL) has no broker and no Celery worker: its tasks run in one
such thread (`tasks_thread`), so a request, a webhook's acknowledgement above all, never
waits on the work it enqueued, as in production.
"""

import logging
import os
import queue
import threading
from collections.abc import Callable

from django.db import close_old_connections

logger = logging.getLogger(__name__)


class QueueThread:
    """One daemon thread per process that runs `consume(queue)` forever; started on the first
    `put` in each process, since a forked child (uvicorn, Celery prefork) inherits no thread.
    `consume` calls `task_done()` for each item it takes, which `flush` waits on."""

    def __init__(self, *, name: str, consume: Callable[[queue.Queue], None]) -> None:
        self._name = name
        self._consume = consume
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._queue: queue.Queue = queue.Queue()

    def put(self, item) -> None:
        if self._pid != os.getpid():
            self._start()
        self._queue.put(item)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._queue = queue.Queue()
            self._thread = threading.Thread(target=self._consume, args=(self._queue,), name=self._name, daemon=True)
            self._thread.start()
            self._pid = os.getpid()

    def is_current(self) -> bool:
        """Whether the caller runs in this thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def flush(self, timeout: float) -> bool:
        """Wait until every item put so far was handled; return whether that happened within
        `timeout` seconds. For orderly shutdowns and tests."""
        pending = self._queue
        with pending.all_tasks_done:
            return pending.all_tasks_done.wait_for(lambda: pending.unfinished_tasks == 0, timeout)


def _run_calls(calls: queue.Queue) -> None:
    while True:
        call = calls.get()
        try:
            call()
        except Exception:  # noqa: BLE001  (the thread must outlive any one task; rows stay for their sweeper)
            logger.exception("Background task failed")
        finally:
            # Each thread holds its own database connection: give it back between tasks, as a
            # Celery worker does.
            close_old_connections()
            calls.task_done()


tasks_thread = QueueThread(name="embedded-tasks", consume=_run_calls)
