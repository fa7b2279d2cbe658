"""Benchmark the agent console's pages on PostgreSQL at 1,000 and at 1,000,000 conversations,
in one run.

    .venv/bin/python bench/console.py [--small 1000] [--large 1000000] [--requests 100]

Creates (and drops after) a database `bench_console_…` of its own on BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432) and loads, with COPY, conversations spread over ten
channels served by two teams, each with its customer, a platform identity, a customer message,
an agent's reply and, while open or pending, a running SLA clock. It measures the pages
in-process (Django's test client: routing, middleware, the selectors' queries, templates),
first with `--small` conversations, then again once the rest up to `--large` are loaded, and
prints each page's p50 / p95 and SQL query count at both sizes.

Targets: p95 at the large size at most 1.5x the p95 at the small size; the same number of
queries at any size (each page's query count does not depend on its rows).
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.common import database_create, unique_database_name  # noqa: E402  (needs the project on the path)
from bench.sla import CLOCK_COLUMNS, copy_rows  # noqa: E402

DATABASE = unique_database_name("bench_console")
CHANNELS = 10
AGENTS = 20
WARM_UP = 20
# A running resolution clock's budget: deadlines spread as the conversations' activity does.
RESOLUTION_BUDGET = timedelta(hours=8)
# Shares of the conversations: open, pending, then resolved.
OPEN_SHARE, PENDING_SHARE = 0.3, 0.1


def django_setup(server_url: str) -> None:
    # Settings read the environment once, at setup: point them at the bench database first.
    os.environ["DATABASE_URL"] = f"{server_url}/{DATABASE}"
    os.environ.pop("REDIS_URL", None)
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Desk:
    """The channels, teams, agents and SLA policy every conversation is spread over."""

    def __init__(self) -> None:
        from integrations.models import Platform
        from tests import factories

        platforms = list(Platform.values)
        self.channels = [
            factories.channel(platform=platforms[n % len(platforms)], name=f"Channel {n}")
            for n in range(CHANNELS)
        ]
        self.agents = [
            factories.agent(user=factories.user(username=f"agent{n}")) for n in range(AGENTS)
        ]
        half = CHANNELS // 2
        self.teams = [
            factories.team(
                name="Team A", channels=self.channels[:half], members=self.agents[: AGENTS // 2]
            ),
            factories.team(
                name="Team B", channels=self.channels[half:], members=self.agents[AGENTS // 2 :]
            ),
        ]
        self.manager = factories.user(username="manager", is_staff=True)
        self.policy = factories.sla_policy(is_default=True)


def conversations_load(desk: Desk, ids: range, now: datetime) -> None:
    """COPY conversations `ids`, their customers (same ids), identities, two messages each
    (ids 2n-1 and 2n) and a running resolution clock for each active one."""
    rng = random.Random(ids.start)
    rows = []
    for number in ids:
        channel = desk.channels[number % CHANNELS]
        roll = rng.random()
        status = (
            "open"
            if roll < OPEN_SHARE
            else "pending"
            if roll < OPEN_SHARE + PENDING_SHARE
            else "resolved"
        )
        last = now - timedelta(seconds=rng.randrange(90 * 86400))
        # A fifth of the open conversations wait unassigned; the measured agent (the first)
        # holds a sixth of the rest, so their own list is a full page even among 1,000.
        agent = (
            None
            if status == "open" and roll < 0.06
            else desk.agents[0 if number % 6 == 0 else number % AGENTS]
        )
        rows.append((number, channel, status, last, agent))

    copy_rows(
        "inbox_customer",
        ["id", "display_name", "crm_contact_id", "language", "created_at"],
        ((n, f"Customer {n}", "", "en", last) for n, _, _, last, _ in rows),
    )
    copy_rows(
        "inbox_customeridentity",
        ["id", "customer_id", "platform", "external_id", "handle", "display_name", "avatar_url"],
        (
            (n, n, channel.platform, f"ext-{n}", f"customer{n}", f"Customer {n}", "")
            for n, channel, _, _, _ in rows
        ),
    )
    copy_rows(
        "inbox_conversation",
        [
            "id",
            "channel_id",
            "customer_id",
            "source",
            "thread_key",
            "external_thread_id",
            "post_id",
            "post_url",
            "status",
            "priority",
            "assignee_id",
            "team_id",
            "language",
            "sentiment",
            "crm_contact_id",
            "created_at",
            "updated_at",
            "last_message_at",
            "resolved_at",
        ],
        (
            (
                n,
                channel.pk,
                n,
                "dm",
                "",
                f"ext-{n}",
                "",
                "",
                status,
                "medium",
                agent.pk if agent else None,
                None,
                "en",
                "",
                "",
                last - timedelta(minutes=30),
                last,
                last,
                last if status == "resolved" else None,
            )
            for n, channel, status, last, agent in rows
        ),
    )
    copy_rows(
        "inbox_message",
        [
            "id",
            "conversation_id",
            "channel_id",
            "direction",
            "sender_type",
            "author_id",
            "content",
            "content_type",
            "platform_message_id",
            "reply_to_platform_id",
            "delivery_status",
            "failure_reason",
            "created_at",
            "reply_kind",
            "send_attempts",
            "part_ids",
        ],
        (
            row
            for n, channel, _, last, agent in rows
            for row in (
                (
                    2 * n - 1,
                    n,
                    channel.pk,
                    "in",
                    "customer",
                    None,
                    f"Where is my order {n}?",
                    "text",
                    f"in-{n}",
                    "",
                    "delivered",
                    "",
                    last - timedelta(minutes=30),
                    "",
                    0,
                    "[]",
                ),
                (
                    2 * n,
                    n,
                    channel.pk,
                    "out",
                    "agent",
                    agent.pk if agent else None,
                    "We are looking into it.",
                    "text",
                    f"out-{n}",
                    "",
                    "read",
                    "",
                    last,
                    "thread",
                    1,
                    "[]",
                ),
            )
        ),
    )
    copy_rows(
        "sla_clock",
        CLOCK_COLUMNS,
        (
            (
                n,
                "resolution",
                desk.policy.pk,
                1,
                "running",
                last - timedelta(minutes=30),
                RESOLUTION_BUDGET,
                timedelta(),
                last - timedelta(minutes=30),
                last + RESOLUTION_BUDGET - timedelta(hours=1, minutes=30),
                last + RESOLUTION_BUDGET - timedelta(minutes=30),
                last + RESOLUTION_BUDGET - timedelta(hours=1, minutes=30),
                "",
            )
            for n, _, status, last, _ in rows
            if status != "resolved"
        ),
    )


def sequences_reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "inbox_customer",
            "inbox_customeridentity",
            "inbox_conversation",
            "inbox_message",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")


def pages(desk: Desk, conversation_id: int) -> list[tuple[str, object, str, dict]]:
    """(label, user, path, extra request headers) of each page measured."""
    agent = desk.agents[0].user
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "conversation-list"}
    return [
        ("inbox, manager, All (page)", desk.manager, "/?view=all", {}),
        ("inbox, agent, My teams (page)", agent, "/?view=teams", {}),
        ("inbox, agent, Mine (htmx list)", agent, "/?view=mine", htmx),
        ("inbox, manager, SLA order (htmx list)", desk.manager, "/?view=all&sort=sla", htmx),
        ("conversation (page)", agent, f"/console/conversations/{conversation_id}/", {}),
    ]


def measure(desk: Desk, conversation_id: int, requests: int) -> dict[str, tuple[float, float, int]]:
    """Each page's p50 and p95 (ms) over `requests` requests, and its query count."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results = {}
    for label, user, path, headers in pages(desk, conversation_id):
        client = Client()
        client.force_login(user)
        for _ in range(WARM_UP):
            assert client.get(path, **headers).status_code == 200
        # The log may be full from the migrations: the capture counts from an empty one.
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            client.get(path, **headers)
        # Read now: the captured queries are a view of the log, which the next request clears.
        queries = len(captured)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(path, **headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        times.sort()
        results[label] = (statistics.median(times), times[int(len(times) * 0.95) - 1], queries)
    return results


def timed(label: str, work) -> None:
    started = time.perf_counter()
    work()
    print(f"  {label}: {time.perf_counter() - started:,.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--batch", type=int, default=250_000, help="Conversations per COPY batch.")
    options = parser.parse_args()
    server_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

    database_create(server_url=server_url, name=DATABASE)
    django_setup(server_url)
    from django.conf import settings

    # The console as served: no DEBUG query log growing through the run.
    settings.DEBUG = False
    now = datetime.now(UTC)
    desk = Desk()
    # A conversation in the middle of the small set, open, with the same thread at both sizes.
    conversation_id = options.small // 2

    print(f"Loading {options.small:,} conversations into {DATABASE}:")
    timed("COPY", lambda: conversations_load(desk, range(1, options.small + 1), now))
    sequences_reset()
    small = measure(desk, conversation_id, options.requests)

    print(f"Loading up to {options.large:,} conversations:")
    for start in range(options.small + 1, options.large + 1, options.batch):
        stop = min(start + options.batch, options.large + 1)
        timed(
            f"COPY {start:,}–{stop - 1:,}",
            lambda start=start, stop=stop: conversations_load(desk, range(start, stop), now),
        )
    timed("ANALYZE", sequences_reset)
    large = measure(desk, conversation_id, options.requests)

    print(
        f"\nConsole pages on PostgreSQL, {options.requests} requests each (in-process test client, after {WARM_UP} warm-up)"
    )
    header = f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}"
    print(f"{'':40} {options.small:>26,} conversations | {options.large:>26,} conversations")
    print(f"{header} | {header[41:]} | p95 ratio")
    worst = 0.0
    for label, (p50, p95, queries) in small.items():
        big_p50, big_p95, big_queries = large[label]
        ratio = big_p95 / p95
        worst = max(worst, ratio)
        same = "" if queries == big_queries else "  QUERY COUNT CHANGED"
        print(
            f"{label:40} {p50:8.1f} {p95:8.1f} {queries:8d} | {big_p50:8.1f} {big_p95:8.1f} {big_queries:8d} | {ratio:5.2f}x{same}"
        )
    print(f"Worst p95 ratio {worst:.2f}x (target <= 1.50x)")


if __name__ == "__main__":
    main()
