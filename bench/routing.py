"""Benchmark routing on PostgreSQL with 8 worker processes.

1. Assignments per second for each strategy: the workers route the same number of new
   conversations across 20 online agents (a third of them needing a skill a rule requires).
2. Ingest throughput with routing off and on, in the same run: the workers process stored
   Messenger deliveries as the processing task does (`webhook_event_process`), each the
   first message of a new customer, which ingest routes in its own transaction; with
   routing off, that step is replaced by nothing. Target: routing adds at most 25 % to the
   time ingest takes.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/any .venv/bin/python bench/routing.py
Only the server of DATABASE_URL is used: the bench creates a database of its own there
(bench_routing_…, dropped at exit). Celery runs in-process, so the drains routing triggers count too.
"""

import argparse
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import database_create, unique_database_name  # noqa: E402  (needs the repository on the path)

DB_NAME = unique_database_name("bench_routing")
WORKERS = 8
AGENTS = 20
SKILLS = ("billing", "shipping", "spanish")


def bench_server_url() -> str:
    """DATABASE_URL without its database: the server the bench makes its own database on."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (its database is not used).")
    return urlunsplit(urlsplit(url)._replace(path=""))


def django_setup(url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": url,
            "REDIS_URL": "",  # Celery eager, in-memory channel layer: routing runs in-process
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.DEBUG = False  # as in production: no query log, which costs every statement
    call_command("migrate", verbosity=0)


def close_connections() -> None:
    """Close connections and the pool: forked workers must open their own."""
    from django.db import connections

    connections.close_all()
    for connection in connections.all(initialized_only=True):
        connection.close_pool()


@dataclass(frozen=True)
class Run:
    seconds: float  # wall time
    cpu_seconds: float  # user + system time of the workers: steadier on a shared machine


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_workers(job: Callable[[int], None]) -> Run:
    """Run `job(worker_index)` in 8 forked processes at once and time them."""
    close_connections()
    context = multiprocessing.get_context("fork")
    start = context.Barrier(WORKERS + 1)

    def worker(index: int) -> None:
        from django.db import connection

        connection.ensure_connection()  # connect before the clock starts
        start.wait()
        job(index)
        close_connections()

    processes = [context.Process(target=worker, args=(i,)) for i in range(WORKERS)]
    for process in processes:
        process.start()
    cpu_before = _children_cpu_seconds()
    start.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    if any(process.exitcode for process in processes):
        raise SystemExit("a worker failed")
    return Run(seconds=elapsed, cpu_seconds=_children_cpu_seconds() - cpu_before)


def seed() -> tuple[object, object]:
    """One channel served by one team of 20 agents with room for everything, and a rule
    requiring a skill for messages about refunds; return the channel and the team."""
    from routing.models import AgentSkill
    from tests import factories

    rng = random.Random(5)
    channel = factories.channel()
    skills = [factories.skill(name=name) for name in SKILLS]
    agents = [factories.agent(capacity=10_000) for _ in range(AGENTS)]
    AgentSkill.objects.bulk_create(
        AgentSkill(agent=agent, skill=skill, level=rng.randint(1, 5))
        for agent in agents
        for skill in rng.sample(skills, 2)
    )
    team = factories.team(channels=[channel], members=agents)
    factories.rule(keywords="refund", required_skill=skills[0], required_level=2)
    return channel, team


def keep_agents_online() -> None:
    from django.utils import timezone

    from routing.models import Agent

    Agent.objects.update(last_heartbeat_at=timezone.now())


def message_text(n: int) -> str:
    return f"I want a refund for order #{n}" if n % 3 == 0 else f"Where is order #{n}?"


def new_conversations(channel, count: int) -> list[int]:
    from django.utils import timezone

    from inbox.models import Conversation, Customer, Message

    now = timezone.now()
    customers = Customer.objects.bulk_create(Customer() for _ in range(count))
    conversations = Conversation.objects.bulk_create(
        Conversation(
            channel=channel,
            customer=customer,
            source="dm",
            created_at=now - timedelta(seconds=n),
            updated_at=now,
            last_message_at=now,
        )
        for n, customer in enumerate(customers)
    )
    Message.objects.bulk_create(
        Message(
            conversation=conversation,
            channel=channel,
            direction=Message.Direction.INBOUND,
            sender_type=Message.SenderType.CUSTOMER,
            content=message_text(n),
            platform_message_id=f"seed-{conversation.pk}",
            created_at=now,
        )
        for n, conversation in enumerate(conversations)
    )
    return [conversation.pk for conversation in conversations]


def reset_loads() -> None:
    """Resolve every conversation, so each phase starts with idle agents, and vacuum: the
    rows left behind would otherwise slow the load counts of the phases that follow."""
    from django.db import connection

    from inbox.models import Conversation

    Conversation.objects.update(status=Conversation.Status.RESOLVED)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def bench_strategy(channel, team, strategy: str, count: int) -> tuple[Run, int]:
    from routing.models import Assignment
    from routing.services import conversation_route

    team.strategy = strategy
    team.save(update_fields=["strategy"])
    reset_loads()
    keep_agents_online()
    ids = new_conversations(channel, count)
    before = Assignment.objects.count()

    def job(index: int) -> None:
        for conversation_id in ids[index::WORKERS]:
            conversation_route(conversation_id=conversation_id)

    run = run_workers(job)
    return run, Assignment.objects.count() - before


def stored_deliveries(channel, *, count: int, run_id: str) -> list[int]:
    """Messenger deliveries stored as the webhook view stores them, each the first message of a
    new customer; return their ids."""
    from django.utils import timezone

    from integrations.models import WebhookEvent

    now = timezone.now()
    page = channel.account_id
    events = WebhookEvent.objects.bulk_create(
        WebhookEvent(
            platform=channel.platform,
            body=json.dumps(
                {
                    "object": "page",
                    "entry": [
                        {
                            "id": page,
                            "time": 1736935200412,
                            "messaging": [
                                {
                                    "sender": {"id": f"{run_id}-psid-{n}"},
                                    "recipient": {"id": page},
                                    "timestamp": 1736935200118 + n,
                                    "message": {"mid": f"{run_id}-m-{n}", "text": message_text(n)},
                                }
                            ],
                        }
                    ],
                }
            ),
            received_at=now,
            enqueued_at=now,
        )
        for n in range(count)
    )
    return [event.pk for event in events]


def bench_ingest(channel, *, route: bool, count: int, run_id: str) -> tuple[Run, int]:
    """Process `count` stored deliveries as the processing task does, each opening a
    conversation that ingest routes in its own transaction; without `route` that step is
    replaced by nothing (the forked workers inherit the replacement)."""
    from unittest import mock

    import inbox.services.batch
    from integrations.services import webhook_event_process
    from routing.models import Assignment

    reset_loads()
    keep_agents_online()
    event_ids = stored_deliveries(channel, count=count, run_id=run_id)

    def job(index: int) -> None:
        for event_id in event_ids[index::WORKERS]:
            if webhook_event_process(event_id=event_id) != "processed":
                raise SystemExit(f"delivery {event_id} was not processed")

    before = Assignment.objects.count()
    routing_off = mock.patch.object(inbox.services.batch, "_new_conversations_route", lambda *_, **__: None)
    with routing_off if not route else nullcontext():
        run = run_workers(job)
    return run, Assignment.objects.count() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=2000, help="per strategy")
    parser.add_argument("--messages", type=int, default=1000, help="per ingest round")
    parser.add_argument("--rounds", type=int, default=6, help="ingest rounds, off and on")
    args = parser.parse_args()

    server_url = bench_server_url()
    database_create(server_url=server_url, name=DB_NAME)
    django_setup(f"{server_url}/{DB_NAME}")
    from helpdesk.celery import app as celery_app
    from routing.models import Team

    celery_app.conf.task_always_eager = True
    channel, team = seed()

    print(f"\nRouting on PostgreSQL: {WORKERS} worker processes, {AGENTS} agents, one team")
    print(
        f"{'strategy':<16}{'conversations':>14}{'assigned':>10}{'seconds':>9}{'assign/s':>10}"
        f"{'CPU ms each':>13}"
    )
    for strategy in Team.Strategy.values:
        run, assigned = bench_strategy(channel, team, strategy, args.conversations)
        print(
            f"{strategy:<16}{args.conversations:>14}{assigned:>10}{run.seconds:>9.2f}"
            f"{assigned / run.seconds:>10.0f}{run.cpu_seconds / args.conversations * 1000:>13.1f}"
        )

    runs: dict[bool, list[tuple[Run, int]]] = {False: [], True: []}
    # Alternate off and on (each first every other round) and keep each side's best round: a
    # noisy neighbour slows a round, it never speeds one up. Short rounds, many of them, so
    # that each side gets some quiet ones.
    for round_number in range(args.rounds):
        for route in (False, True) if round_number % 2 else (True, False):
            run_id = f"r{round_number}-{'on' if route else 'off'}"
            runs[route].append(
                bench_ingest(channel, route=route, count=args.messages, run_id=run_id)
            )
    best = {route: min(results, key=lambda r: r[0].seconds) for route, results in runs.items()}
    print(
        f"\nIngest of new conversations ({args.messages} deliveries x {args.rounds} rounds, "
        "best round)"
    )
    print(f"{'routing':<16}{'messages/s':>12}{'CPU ms each':>13}{'assigned':>10}")
    for route, label in ((False, "off"), (True, "on")):
        run, assigned = best[route]
        print(
            f"{label:<16}{args.messages / run.seconds:>12.0f}"
            f"{run.cpu_seconds / args.messages * 1000:>13.1f}{assigned:>10}"
        )
    (off, _), (on, _) = best[False], best[True]
    paired = statistics.median(
        on_run.seconds / off_run.seconds - 1
        for (off_run, _), (on_run, _) in zip(runs[False], runs[True], strict=True)
    )
    print(
        f"routing adds {on.seconds / off.seconds - 1:.0%} to ingest's time (target: at most "
        f"25 %), costs {1 - off.seconds / on.seconds:.0%} of its throughput and adds "
        f"{on.cpu_seconds / off.cpu_seconds - 1:.0%} to the workers' CPU time per message; "
        f"round by round, the median adds {paired:.0%}"
    )


if __name__ == "__main__":
    main()
