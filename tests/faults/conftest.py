"""The fault suite's machinery: its own redis-server and Celery worker processes, which a test
may stop, restart or SIGKILL, on the test database of CI's PostgreSQL + Redis pass; webhook
deliveries posted through the real endpoint; and the ledger that compares what was sent with
what is stored."""

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection

from helpdesk.celery import queue_names
from inbox.models import Message
from integrations.dispatch import processing_dispatch_flush
from integrations.models import Platform, WebhookEvent
from integrations.platforms import meta
from integrations.services import webhook_events_sweep
from tests import factories
from tests.brokers import celery_broker, free_port

ROOT = Path(__file__).resolve().parents[2]
PAGE_ID = "104857362918473"
DEADLINE_SECONDS = 60


def wait_for(condition: Callable[[], object], *, timeout: float = DEADLINE_SECONDS, what: str) -> None:
    """Poll `condition` until it holds; fail the test with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(0.1)  # polling a condition with a deadline, not a fixed wait


class RedisServer:
    """A redis-server of the test's own on a free port, without persistence: a restart loses
    every queued task, as a crashed broker does."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self._directory)],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        wait_for(lambda: self._answers(client), timeout=15, what="redis-server to answer")

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def crash(self) -> None:
        """SIGKILL: the broker is gone with everything it held."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=15)
            self._process = None


class Workers:
    """Celery worker processes on the test's Redis and the test database; each serves the
    queues it is given, with the solo pool, so SIGKILL stops the very process that runs the task."""

    def __init__(self, *, redis_url: str, logs: Path) -> None:
        self._redis_url = redis_url
        self._logs = logs
        self._processes: list[subprocess.Popen] = []

    def start(self, *queues: str) -> subprocess.Popen:
        db = connection.settings_dict
        env = {
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": self._redis_url,
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "LOG_LEVEL": "WARNING",
        }
        name = f"fault{len(self._processes)}"
        log = (self._logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=solo", "--loglevel=WARNING",
             "-Q", ",".join(queues or queue_names()), "-n", f"{name}@%h", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        self._processes.append(process)
        return process

    def kill_all(self) -> None:
        # Nothing of theirs is worth a warm shutdown: the test's Redis goes next.
        for process in self._processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=15)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.crash()


@pytest.fixture
def broker(redis_server, settings) -> Iterator[RedisServer]:
    """This process publishes to the test's Redis, and sweeps with a short window."""
    settings.WEBHOOK_SWEEP_AFTER = timedelta(seconds=1)
    with celery_broker(redis_server.url):
        yield redis_server
        processing_dispatch_flush(timeout=15)


@pytest.fixture
def workers(redis_server, tmp_path) -> Iterator[Workers]:
    started = Workers(redis_url=redis_server.url, logs=tmp_path)
    yield started
    started.kill_all()


@pytest.fixture
def page(transactional_db):
    return factories.channel(platform=Platform.FACEBOOK, account_id=PAGE_ID)


def messaging(mid: str, text: str | None = None) -> dict:
    return {
        "sender": {"id": f"customer-{mid[-1]}"}, "recipient": {"id": PAGE_ID}, "timestamp": 1736935200118,
        "message": {"mid": mid, "text": text if text is not None else f"Message {mid}"},
    }


def deliver(client, *items: dict) -> int:
    """POST one signed Messenger delivery with these items; return the status code."""
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1736935200412, "messaging": list(items)}]})
    headers = meta.signature_headers(body=body.encode(), secret=factories.SECRETS[Platform.FACEBOOK])
    return client.post("/webhooks/facebook/", data=body, content_type="application/json", headers=headers).status_code


def deliver_each(client, mids: list[str]) -> None:
    """One delivery per id, each answered 200, and handed to the broker (or refused by it)."""
    statuses = [deliver(client, messaging(mid)) for mid in mids]
    assert statuses == [200] * len(mids)
    assert processing_dispatch_flush(timeout=30)


def settled() -> bool:
    return not WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).exists()


def sweep_until_settled(*, timeout: float = DEADLINE_SECONDS) -> None:
    """Run the webhook sweeper, as beat does, until no event is pending."""

    def swept_and_settled() -> bool:
        if settled():
            return True
        webhook_events_sweep()
        return False

    wait_for(swept_and_settled, timeout=timeout, what="every webhook event to be processed")


def assert_ledger(sent: list[str]) -> None:
    """Every message sent is stored once, and nothing else is: 0 lost, 0 duplicated."""
    stored = list(Message.objects.filter(direction=Message.Direction.INBOUND).values_list("platform_message_id", flat=True))
    lost = sorted(set(sent) - set(stored))
    duplicated = len(stored) - len(set(stored))
    unexpected = sorted(set(stored) - set(sent))
    assert (lost, duplicated, unexpected) == ([], 0, []), f"{len(sent)} sent, {len(stored)} stored"
