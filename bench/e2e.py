"""Benchmark ingest end to end (webhook to stored, routed message with SLA clocks) against the
django-helpdesk peer creating tickets through its API, side by side in one run.

Product: PostgreSQL + Redis, 2 uvicorn and 2 Celery worker processes; a Facebook Page served
by a round-robin team of online agents, a default SLA policy. Signed Messenger deliveries
(one message each; a quarter from new customers, so a quarter open conversations) are posted
at a fixed rate, faster than they can be processed, until all are posted; the figure is
messages stored / time from the first post until the queue is drained. Measured with about
1 k messages stored, then again after seeding the tables with `--large` messages (bulk SQL).
Printed per size: messages/s, worker CPU per message (the Celery processes' CPU over the
drain), SQL statements per message (counted in the workers, BEGIN/COMMIT excepted).

Peer: django-helpdesk 2.6.1 from ../shared/peer (BENCH_PEER_SOURCE; installed under the temporary
directory, BENCH_PEER_DIR, on PostgreSQL), 2 uvicorn workers, `POST /helpdesk/api/tickets/` over 8 connections.

Targets (issue 12): messages/s >= 3x the peer's tickets/s; worker CPU <= 4 ms per message; the
cost must not grow with the table.

Usage: .venv/bin/python bench/e2e.py [--messages 2000] [--rate 400] [--large 1000000]
Needs PostgreSQL and Redis on 127.0.0.1 (BENCH_PG, BENCH_REDIS_URL); creates and drops its own
databases.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import database_create, free_port, unique_database_name  # noqa: E402  (needs the repository on sys.path)

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
# The peer is read from the steering repository's shared/ beside this clone, at bench time only.
PEER_SOURCE = Path(os.environ.get("BENCH_PEER_SOURCE", ROOT.parent / "shared" / "peer"))
PEER_DIR = Path(os.environ.get("BENCH_PEER_DIR", Path(tempfile.gettempdir()) / "peer_bench"))
PAGE_ID = "104857362918473"
APP_SECRET = "bench-app-secret-0123456789abcdef"
AGENTS = 20
NEW_CUSTOMER_SHARE = 4  # every fourth message is a new customer's first
SQL_COUNTER = "bench:e2e:sql"


def product_env(db_name: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db_name}",
        "REDIS_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key",
        "FIELD_ENCRYPTION_KEYS": "p4S3mX4cdCOVMJ4hNBjy5c2l4DIeZtmkCX6tqyxqmAA=",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        # The agents are kept online for the whole run without a console sending heartbeats.
        "ROUTING_PRESENCE_TIMEOUT_SECONDS": "86400",
        "BENCH_SQL_COUNTER": SQL_COUNTER,
    }


def product_prepare(db_name: str) -> dict:
    """Create and migrate the product's database, set Django up in this process, and create
    the Page, its team of online agents and the default SLA policy."""
    env = product_env(db_name)
    database_create(server_url=PG, name=db_name)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from helpdesk.celery import app as celery_app
    from integrations.models import Channel
    from tests import factories

    celery_app.control.purge()
    channel = Channel.objects.create(platform="facebook", name="Bench Page", account_id=PAGE_ID, app_secret=APP_SECRET)
    agents = [factories.agent(user=factories.user(username=f"agent{n}"), capacity=32767) for n in range(AGENTS)]
    factories.team(name="Support", channels=[channel], members=agents)
    factories.sla_policy(is_default=True, name="Default")
    return env


def delivery(n: int, *, tag: str) -> tuple[bytes, dict]:
    """A signed Messenger delivery of one message; every NEW_CUSTOMER_SHARE-th from a new customer."""
    from integrations.platforms import meta

    customer = n if n % NEW_CUSTOMER_SHARE == 0 else n - n % NEW_CUSTOMER_SHARE
    payload = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1736935200412, "messaging": [{
        "sender": {"id": f"psid-{tag}-{customer}"}, "recipient": {"id": PAGE_ID}, "timestamp": int(time.time() * 1000),
        "message": {"mid": f"m_{tag}_{n}", "text": f"Hi, my order #{10000 + n} hasn't arrived yet."}}]}]}
    body = json.dumps(payload, separators=(",", ":")).encode()
    return body, {"Content-Type": "application/json", **meta.signature_headers(body=body, secret=APP_SECRET)}


@dataclass
class Posting:
    """Deliveries posted at a fixed rate over keep-alive connections, with each one's send time."""

    port: int
    requests: list[tuple[bytes, dict]]
    rate: float
    connections: int = 16
    sent_at: list[float] = field(default_factory=list)
    failures: int = 0

    def run(self) -> None:
        self.sent_at = [0.0] * len(self.requests)
        start = time.monotonic() + 0.2
        next_index = iter(range(len(self.requests)))
        lock = threading.Lock()

        def worker() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    break
                delay = start + index / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                body, headers = self.requests[index]
                self.sent_at[index] = time.time()
                conn.request("POST", "/webhooks/facebook/", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    with lock:
                        self.failures += 1
            conn.close()

        threads = [threading.Thread(target=worker) for _ in range(self.connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def wait_until_serving(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its live children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class Product:
    """The product's servers: uvicorn x2 and a Celery worker with 2 processes."""

    def __init__(self, env: dict, *, web_workers: int = 2, celery_processes: int = 2) -> None:
        self.env = env
        self.port = free_port()
        self.web = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "helpdesk.asgi:application", "--port", str(self.port),
             "--workers", str(web_workers), "--no-access-log", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--loglevel=WARNING",
             f"--concurrency={celery_processes}", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env,
        )
        wait_until_serving(self.port)

    def stop(self) -> None:
        for process in (self.web, self.worker):
            process.terminate()
        for process in (self.web, self.worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def drained_wait(expected_events: int, timeout: float = 900) -> float:
    """Wait until the events are stored and none is pending; return when (time.time())."""
    from integrations.models import WebhookEvent

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (
            WebhookEvent.objects.count() >= expected_events
            and not WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).exists()
        ):
            return time.time()
        time.sleep(0.05)
    raise SystemExit("the workers did not drain the queue in time")


@dataclass
class Figures:
    messages: int
    stored_before: int
    seconds: float
    worker_cpu: float
    statements: int
    post_failures: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def product_run(product: Product, *, count: int, rate: float, tag: str) -> Figures:
    """Post `count` deliveries at `rate` per second and measure until they are all stored."""
    import redis

    from inbox.models import Message
    from integrations.models import WebhookEvent

    counter = redis.Redis.from_url(REDIS_URL)
    before = Message.objects.count()
    events_before = WebhookEvent.objects.count()
    requests = [delivery(n, tag=tag) for n in range(count)]
    counter.set(SQL_COUNTER, 0)
    cpu_before = cpu_seconds(product.worker.pid)
    posting = Posting(port=product.port, requests=requests, rate=rate)
    started = time.time()
    posting.run()
    finished = drained_wait(events_before + count)
    figures = Figures(
        messages=Message.objects.count() - before,
        stored_before=before,
        seconds=finished - started,
        worker_cpu=cpu_seconds(product.worker.pid) - cpu_before,
        statements=int(counter.get(SQL_COUNTER) or 0),
        post_failures=posting.failures,
    )
    failed = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count()
    if failed:
        raise SystemExit(f"{failed} webhook events failed")
    return figures


def seed(total_messages: int) -> float:
    """Fill the inbox with `total_messages` messages of resolved two-message conversations
    (customers and identities included), with bulk SQL on the server; return the seconds it took."""
    from django.db import connection

    from integrations.models import Channel

    channel_id = Channel.objects.get().pk
    conversations = total_messages // 2
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM inbox_customer")
        base = cursor.fetchone()[0] + 1000  # clear of the ids the first round used
        cursor.execute("SELECT coalesce(max(id), 0) FROM inbox_conversation")
        conversation_base = cursor.fetchone()[0] + 1000
        steps = [
            """INSERT INTO inbox_customer (id, display_name, crm_contact_id, language, created_at)
               SELECT %(base)s + g, 'Seeded customer ' || g, '', '', now() - interval '200 days'
               FROM generate_series(1, %(n)s) g""",
            """INSERT INTO inbox_customeridentity (customer_id, platform, external_id, handle, display_name, avatar_url)
               SELECT %(base)s + g, 'facebook', 'seed-' || g, '', 'Seeded customer ' || g, ''
               FROM generate_series(1, %(n)s) g""",
            """INSERT INTO inbox_conversation (id, channel_id, customer_id, source, thread_key, external_thread_id,
                   post_id, post_url, status, priority, language, sentiment, crm_contact_id, created_at, updated_at,
                   last_message_at, resolved_at)
               SELECT %(cbase)s + g, %(channel)s, %(base)s + g, 'dm', '', '', '', '', 'resolved', 'medium', '', '', '',
                   now() - interval '100 days' - g * interval '1 second', now() - interval '100 days',
                   now() - interval '100 days', now() - interval '99 days'
               FROM generate_series(1, %(n)s) g""",
            """INSERT INTO inbox_message (conversation_id, channel_id, direction, sender_type, content, content_type,
                   platform_message_id, reply_to_platform_id, delivery_status, failure_reason, created_at, reply_kind,
                   send_attempts, part_ids)
               SELECT %(cbase)s + (g + 1) / 2, %(channel)s, 'in', 'customer', 'Seeded message ' || g, 'text',
                   'seed-m-' || g, '', 'delivered', '', now() - interval '100 days', '', 0, '[]'
               FROM generate_series(1, %(messages)s) g""",
            "SELECT setval(pg_get_serial_sequence('inbox_customer', 'id'), (SELECT max(id) FROM inbox_customer))",
            "SELECT setval(pg_get_serial_sequence('inbox_conversation', 'id'), (SELECT max(id) FROM inbox_conversation))",
            "ANALYZE",
        ]
        params = {"base": base, "cbase": conversation_base, "n": conversations, "channel": channel_id,
                  "messages": conversations * 2}
        for step in steps:
            cursor.execute(step, params)
    return time.monotonic() - started


# The peer


def peer_setup(db_name: str) -> None:
    subprocess.run(["bash", str(PEER_SOURCE / "setup.sh"), str(PEER_DIR)], env={**os.environ, "PEER_PG": db_name},
                   check=True, stdout=subprocess.DEVNULL)


class PeerSession:
    """A logged-in admin session on the peer (session cookie + CSRF token)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self._request("GET", "/admin/login/")
        body = urllib.parse.urlencode({
            "username": "admin", "password": "peer-admin-pw", "csrfmiddlewaretoken": self.cookies["csrftoken"],
            "next": "/admin/",
        })
        status = self._request("POST", "/admin/login/", body=body.encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit("could not log in to the peer")

    def _request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                 conn: http.client.HTTPConnection | None = None) -> int:
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers={
            **(headers or {}), "Cookie": cookie, "Referer": f"http://127.0.0.1:{self.port}/admin/login/",
            **({"X-CSRFToken": self.cookies["csrftoken"]} if "csrftoken" in self.cookies else {}),
        })
        response = conn.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        if own:
            conn.close()
        return response.status

    def tickets_create(self, count: int, connections: int = 8) -> tuple[float, int]:
        """Create `count` tickets over `connections` keep-alive connections; return the seconds and failures."""
        failures = 0
        lock = threading.Lock()
        indexes = iter(range(count))

        def worker() -> None:
            nonlocal failures
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            while True:
                with lock:
                    n = next(indexes, None)
                if n is None:
                    break
                body = json.dumps({
                    "queue": 1, "title": f"Order {n} has not arrived",
                    "description": f"Hello, my order {n} has not arrived yet. Can you help?",
                    "submitter_email": f"customer{n}@example.com", "priority": 3,
                }).encode()
                status = self._request("POST", "/helpdesk/api/tickets/", body=body,
                                       headers={"Content-Type": "application/json"}, conn=conn)
                if status != 201:
                    with lock:
                        failures += 1
            conn.close()

        threads = [threading.Thread(target=worker) for _ in range(connections)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - started, failures


def peer_run(count: int) -> dict:
    db_name = unique_database_name("bench_e2e_peer")
    peer_setup(db_name)
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "peersite.settings_perf", "PEER_PG": db_name}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    server = subprocess.Popen(
        [str(PEER_DIR / "venv" / "bin" / "uvicorn"), "peersite.asgi_perf:application", "--workers", "2",
         "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=PEER_DIR / "site", env=env,
    )
    try:
        wait_until_serving(port)
        session = PeerSession(port)
        session.tickets_create(50)  # warm-up
        cpu_before = cpu_seconds(server.pid)
        seconds, failures = session.tickets_create(count)
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait()
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
    return {"tickets": count, "seconds": seconds, "rate": count / seconds, "cpu_ms": cpu / count * 1000,
            "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages posted per measured round")
    parser.add_argument("--rate", type=float, default=400, help="deliveries posted per second")
    parser.add_argument("--large", type=int, default=1_000_000, help="messages seeded before the second round")
    parser.add_argument("--tickets", type=int, default=600, help="tickets the peer creates")
    args = parser.parse_args()

    peer = peer_run(args.tickets)
    env = product_prepare(unique_database_name("bench_e2e"))
    product = Product(env)
    try:
        product_run(product, count=200, rate=args.rate, tag="warm")
        small = product_run(product, count=args.messages, rate=args.rate, tag="small")
        seeded_in = seed(args.large)
        large = product_run(product, count=args.messages, rate=args.rate, tag="large")
    finally:
        product.stop()

    print(f"\nEnd to end on PostgreSQL + Redis: {args.messages} Messenger deliveries posted at {args.rate:.0f}/s "
          f"(a quarter from new customers), 2 uvicorn + 2 Celery processes, routing to {AGENTS} online agents, "
          "SLA clocks on")
    print(f"peer (django-helpdesk, ticket create API, 8 connections): {peer['rate']:.1f} tickets/s, "
          f"{peer['cpu_ms']:.1f} ms server CPU per ticket, {peer['failures']} failed")
    print(f"{'stored messages':<18}{'msgs/s':>9}{'x peer':>8}{'worker CPU ms/msg':>19}{'SQL/msg':>9}{'post failures':>15}")
    for figures in (small, large):
        print(
            f"{figures.stored_before:<18,}{figures.rate:>9.0f}{figures.rate / peer['rate']:>7.1f}x"
            f"{figures.worker_cpu / figures.messages * 1000:>19.2f}{figures.statements / figures.messages:>9.1f}"
            f"{figures.post_failures:>15}"
        )
    print(f"(seeded {args.large:,} messages with bulk SQL in {seeded_in:.0f} s; targets: >= 3x the peer, "
          "<= 4 ms worker CPU per message, flat with the table)")


if __name__ == "__main__":
    main()
