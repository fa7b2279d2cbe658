"""Benchmark the live console under load: a logged-in manager's console socket is open while
signed webhooks arrive at a fixed rate; each stored message's `message-created` event should
reach the socket within a second of its webhook being posted.

Same servers as bench/e2e.py (PostgreSQL + Redis, 2 uvicorn, 2 Celery processes, a team of
online agents, SLA on). Printed: webhook-to-socket latency p50 / p95 / p99 / max, and the
messages stored whose event never reached the socket.

Targets (issue 12): p95 < 1 s at 100 messages/s for 60 s; 0 events missing.

Usage: .venv/bin/python bench/live.py [--rate 100] [--seconds 60]
"""

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import unique_database_name  # noqa: E402  (needs the repository on sys.path)
from bench.e2e import Posting, Product, delivery, drained_wait, product_prepare  # noqa: E402

# How long events may still arrive after the queue is drained (the broadcasts go out on commit).
STRAGGLER_SECONDS = 5


def session_cookie() -> str:
    """Log a manager in and return their session cookie."""
    from django.test import Client

    from tests import factories

    manager = factories.user(username="manager", is_staff=True)
    client = Client()
    client.force_login(manager)
    return client.cookies["sessionid"].value


class Console:
    """A console socket that records when each `message-created` event arrives."""

    def __init__(self, port: int, cookie: str) -> None:
        from websockets.sync.client import connect

        self.socket = connect(
            f"ws://127.0.0.1:{port}/ws/inbox/", origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": f"sessionid={cookie}"}, open_timeout=30,
        )
        self.arrived: dict[int, float] = {}
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            for frame in self.socket:
                at = time.time()
                event = json.loads(frame)
                if event.get("event") == "message-created":
                    self.arrived.setdefault(event["message_id"], at)
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    def close(self) -> None:
        self.socket.close()
        self.thread.join(timeout=10)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()

    env = product_prepare(unique_database_name("bench_live"))
    from inbox.models import Message
    from integrations.models import WebhookEvent

    cookie = session_cookie()
    product = Product(env)
    try:
        console = Console(product.port, cookie)
        count = int(args.rate * args.seconds)
        requests = [delivery(n, tag="live") for n in range(count)]
        posting = Posting(port=product.port, requests=requests, rate=args.rate)
        posting.run()
        drained_wait(WebhookEvent.objects.count())
        time.sleep(STRAGGLER_SECONDS)
        dropped = console.closed.is_set()
        console.close()
    finally:
        product.stop()

    index_of = {f"m_live_{n}": n for n in range(count)}
    stored = dict(Message.objects.filter(platform_message_id__startswith="m_live_").values_list("pk", "platform_message_id"))
    latencies = sorted(
        console.arrived[pk] - posting.sent_at[index_of[mid]] for pk, mid in stored.items() if pk in console.arrived
    )
    missing = len(stored) - len(latencies)
    print(f"\nLive console on PostgreSQL + Redis: {count} webhooks at {args.rate:.0f}/s for {args.seconds:.0f} s, "
          "2 uvicorn + 2 Celery processes, one manager's console socket")
    print(f"stored {len(stored)} of {count} messages; post failures {posting.failures}; "
          f"socket dropped during the run: {'yes' if dropped else 'no'}")
    if latencies:
        print(f"webhook-to-socket latency: p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms")
    print(f"events missing: {missing} (targets: p95 < 1000 ms, 0 missing)")


if __name__ == "__main__":
    main()
