"""Benchmark the SLA breach scan on PostgreSQL with 1,000,000 open conversations.

    .venv/bin/python bench/sla.py [--conversations 1000000] [--beat-seconds 30]

Creates (and drops after) a database `bench_sla_…` of its own on BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432), loads the open conversations with COPY, each with a running
first-response and resolution clock that is not due, and prints:

1. how long one scan takes when nothing is due, and when 1,000 clocks are due;
2. a real-time beat run: deadlines spread over the next 60 s, a scan every beat period (as
   Celery beat runs it), and the largest lag between a deadline passing and the committed flag;
3. what the API's `sla` filter and nearest-deadline ordering cost at this size.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import database_create, unique_database_name  # noqa: E402  (needs the repository on sys.path)

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE = unique_database_name("bench_sla")
# Django and the apps are imported inside the functions: the settings must first point at the
# bench database (django_setup).


def django_setup(server_url: str) -> None:
    # Settings read the environment once, at setup: point them at the bench database first.
    os.environ["DATABASE_URL"] = f"{server_url}/{DATABASE}"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Tasks (escalations) go to the broker as in production instead of running in the scan.
    from helpdesk.celery import app

    app.conf.task_always_eager = False


def timed(label: str, work):
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed * 1000:,.0f} ms")
    return result, elapsed


def copy_rows(table: str, columns: list[str], rows) -> None:
    from django.db import connection

    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def conversations_load(count: int, now: datetime) -> range:
    """COPY `count` open conversations of one channel and customer; return their ids."""
    from django.db import connection

    from inbox.models import Conversation
    from tests import factories

    template = Conversation(
        channel=factories.channel(),
        customer=factories.customer(),
        source=Conversation.Source.DM,
        created_at=now,
        updated_at=now,
        last_message_at=now,
    )
    fields = [field for field in Conversation._meta.concrete_fields if not field.primary_key]
    values = {
        field.column: field.get_db_prep_save(getattr(template, field.attname), connection)
        for field in fields
    }
    columns = list(values)
    thread_key = columns.index("thread_key")

    def rows():
        row = list(values.values())
        for number in range(count):
            row[thread_key] = str(number)  # one open conversation per thread
            yield row

    copy_rows(Conversation._meta.db_table, columns, rows())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id) FROM {Conversation._meta.db_table}")
        first, last = cursor.fetchone()
    assert last - first + 1 == count
    return range(first, last + 1)


CLOCK_COLUMNS = [
    "conversation_id",
    "target",
    "policy_id",
    "cycle",
    "state",
    "started_at",
    "budget",
    "consumed",
    "resumed_at",
    "warn_at",
    "deadline",
    "next_check_at",
    "outcome",
]


def clocks_load(conversation_ids: range, policy_id: int, now: datetime) -> None:
    """COPY a running first-response and resolution clock for each conversation, none due
    for a day: the scan must not pay for them."""
    from sla.models import Clock, Target

    budget, started = timedelta(hours=24), now - timedelta(minutes=30)

    def rows():
        for number, conversation_id in enumerate(conversation_ids):
            deadline = now + timedelta(days=1, seconds=number % 86_400)
            for target in (Target.FIRST_RESPONSE, Target.RESOLUTION):
                yield (
                    conversation_id,
                    target,
                    policy_id,
                    1,
                    Clock.State.RUNNING,
                    started,
                    budget,
                    timedelta(),
                    started,
                    deadline - timedelta(hours=4),
                    deadline,
                    deadline - timedelta(hours=4),
                    "",
                )

    copy_rows(Clock._meta.db_table, CLOCK_COLUMNS, rows())


def clocks_come_due(conversation_ids: list[int], deadlines: list[datetime]) -> None:
    """Give these conversations' first-response clocks the deadlines (and no warning)."""
    from sla.models import Clock, Target

    clocks = list(
        Clock.objects.filter(conversation_id__in=conversation_ids, target=Target.FIRST_RESPONSE)
    )
    by_conversation = dict(zip(conversation_ids, deadlines, strict=True))
    for clock in clocks:
        clock.deadline = clock.next_check_at = by_conversation[clock.conversation_id]
        clock.warn_at = None
    Clock.objects.bulk_update(clocks, ["deadline", "next_check_at", "warn_at"], batch_size=1000)


def scan_plan() -> str:
    from django.db import connection
    from django.utils import timezone

    from sla.models import Clock

    due = Clock.objects.filter(next_check_at__lte=timezone.now()).order_by("next_check_at")[:500]
    sql, params = due.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql} FOR UPDATE SKIP LOCKED", params)
        return "\n".join(f"    {line}" for (line,) in cursor.fetchall())


def beat_run(conversation_ids: list[int], beat: float) -> None:
    """Deadlines spread over the next 60 s; scan every `beat` seconds as beat would; print
    the worst delay from a deadline to the commit of its breach."""
    from django.utils import timezone

    from sla.models import ClockEvent
    from sla.services.scan import sla_clocks_scan

    start = timezone.now()
    count = len(conversation_ids)
    clocks_come_due(
        conversation_ids, [start + timedelta(seconds=60 * (n + 1) / count) for n in range(count)]
    )
    committed_at: dict[datetime, datetime] = {}
    tick = start
    while tick <= start + timedelta(seconds=60 + beat):
        time.sleep(max((tick - timezone.now()).total_seconds(), 0))
        scan_now = timezone.now()
        recorded = sla_clocks_scan(now=scan_now)
        committed_at[scan_now] = timezone.now()
        print(
            f"  scan at +{(scan_now - start).total_seconds():5.1f} s flagged {recorded:4d} clocks "
            f"in {(committed_at[scan_now] - scan_now).total_seconds() * 1000:,.0f} ms"
        )
        tick += timedelta(seconds=beat)
    breaches = ClockEvent.objects.filter(
        conversation_id__in=conversation_ids, kind=ClockEvent.Kind.BREACHED
    )
    lags = [(committed_at[event.recorded_at] - event.due_at).total_seconds() for event in breaches]
    print(
        f"  {len(lags)} of {count} deadlines flagged; lag from deadline to committed flag: "
        f"max {max(lags):.1f} s, mean {sum(lags) / len(lags):.1f} s (bound: beat {beat:.0f} s + one scan)"
    )


def api_reads(now: datetime) -> None:
    from inbox.models import Conversation
    from sla.selectors import conversations_by_sla_deadline, conversations_sla_filter

    open_conversations = Conversation.objects.filter(status=Conversation.Status.OPEN)
    for state in ("at_risk", "breached"):
        timed(
            f"sla={state}: first page of 50",
            lambda state=state: list(
                conversations_sla_filter(open_conversations, state=state, now=now)[:50]
            ),
        )
    timed(
        "ordering by nearest deadline: first page of 50",
        lambda: list(conversations_by_sla_deadline(open_conversations)[:50]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--beat-seconds", type=float, default=30.0)
    options = parser.parse_args()
    server_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

    database_create(server_url=server_url, name=DATABASE)
    django_setup(server_url)
    from django.db import connection
    from django.utils import timezone

    from sla.services.scan import sla_clocks_scan
    from tests import factories

    now = datetime.now(UTC)
    policy = factories.sla_policy(is_default=True)
    print(
        f"Loading {options.conversations:,} open conversations with 2 clocks each into {DATABASE}:"
    )
    ids, _ = timed("conversations (COPY)", lambda: conversations_load(options.conversations, now))
    timed("clocks (COPY)", lambda: clocks_load(ids, policy.pk, now))
    with connection.cursor() as cursor:
        timed("ANALYZE", lambda: cursor.execute("ANALYZE"))

    print("\nThe scan's query plan:")
    print(scan_plan())
    print("\nOne scan:")
    timed("nothing due", lambda: sla_clocks_scan(now=timezone.now()))
    due = list(ids[:1000])
    clocks_come_due(due, [timezone.now() - timedelta(seconds=1)] * len(due))
    recorded, _ = timed("1,000 clocks due", lambda: sla_clocks_scan(now=timezone.now()))
    assert recorded == len(due)

    print(f"\nBeat run (every {options.beat_seconds:.0f} s, real time):")
    beat_run(list(ids[1000:1300]), options.beat_seconds)

    print(f"\nAPI reads over {options.conversations:,} open conversations:")
    api_reads(timezone.now())


if __name__ == "__main__":
    main()
