"""The embedded default under concurrent webhooks: a real uvicorn process on a SQLite file
takes a burst of deliveries on many connections at once; none is refused, none is lost, its
background task thread processes them all and nothing meets "database is locked"."""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings

from integrations.platforms import telegram

ROOT = Path(__file__).resolve().parents[1]
DELIVERIES = 300
CONNECTIONS = 24
SECRET = "embedded-burst_secret"

pytestmark = pytest.mark.skipif(bool(settings.DATABASE_URL), reason="the embedded default is SQLite")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def embedded_server(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(SQLITE_PATH=str(tmp_path / "helpdesk.sqlite3"), LOG_LEVEL="WARNING")
    _manage(env, "migrate", "-v", "0")
    channel = json.loads(_manage(env, "add_channel", "--platform", "telegram", "--account-id", "7000000001",
                                 "--name", "Burst bot", "--app-secret", SECRET, "--access-token", "123:abc"))
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "helpdesk.asgi:application", "--port", str(port), "--no-access-log"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("uvicorn did not start")
            time.sleep(0.1)  # polling for the port to open, with a deadline
    yield f"http://127.0.0.1:{port}/webhooks/telegram/{channel['id']}/", tmp_path / "helpdesk.sqlite3", server
    server.terminate()
    server.wait(timeout=30)


def _update(n: int) -> bytes:
    return json.dumps({"update_id": 900000 + n, "message": {
        "message_id": n, "date": 1764064800 + n, "text": f"Order #{n} is late",
        "from": {"id": 5000 + n % 40, "is_bot": False, "first_name": f"Customer {n % 40}"},
        "chat": {"id": 5000 + n % 40, "type": "private"}}}).encode()


def _pending(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT COUNT(*) FROM integrations_webhookevent WHERE status = 'pending'").fetchone()[0]


def test_a_burst_of_concurrent_webhooks_is_stored_and_processed_completely(embedded_server):
    url, database, server = embedded_server
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=CONNECTIONS))

    def deliver(n: int) -> int:
        body = _update(n)
        headers = {"Content-Type": "application/json", **telegram.signature_headers(body=body, secret=SECRET)}
        return session.post(url, data=body, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        statuses = list(pool.map(deliver, range(DELIVERIES)))
    assert statuses == [200] * DELIVERIES

    # Processing runs after the acknowledgements, in the server's background task thread.
    deadline = time.monotonic() + 120
    while _pending(database) and time.monotonic() < deadline:
        time.sleep(0.2)  # polling a condition with a deadline, not a fixed wait
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        events = dict(db.execute("SELECT status, COUNT(*) FROM integrations_webhookevent GROUP BY status"))
        messages = db.execute("SELECT COUNT(*) FROM inbox_message").fetchone()[0]
        conversations = db.execute("SELECT COUNT(*) FROM inbox_conversation").fetchone()[0]
    assert events == {"processed": DELIVERIES}
    assert messages == DELIVERIES
    assert conversations == 40
    server.terminate()
    assert b"database is locked" not in server.communicate(timeout=30)[1]
