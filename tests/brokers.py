"""Point Celery at another broker for a while: an unreachable one, or a test's own Redis."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Publish Celery tasks to the broker at `url` (not run eagerly) inside the block."""
    from helpdesk.celery import app

    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = url, False
    _pools_drop(app)
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
        _pools_drop(app)


def _pools_drop(app) -> None:
    """Forget the pooled connections and producers, built from the broker URL on first use.
    (Not `app.close()`: it also unregisters the app, and the shared tasks of modules imported
    after that would never be registered on it.)"""
    app._pool = None
    app.amqp._producer_pool = None


def broker_unreachable():
    """Celery publishes to a Redis broker that refuses every connection."""
    return celery_broker(f"redis://127.0.0.1:{free_port()}/0")

