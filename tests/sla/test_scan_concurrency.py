"""Two scanners at once on PostgreSQL: every warning and breach is recorded exactly once."""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction

from sla.models import Clock, ClockEvent
from sla.services import scan
from sla.services.clocks import sla_on_customer_message
from tests import factories
from tests.sla.conftest import T0

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]
MINUTE = timedelta(minutes=1)


def side_by_side(*work: Callable[[threading.Barrier], object]) -> list:
    """Run each function on its own thread and database connection, released together by a
    barrier they are given; return their results in order."""
    barrier = threading.Barrier(len(work))
    results: list = [None] * len(work)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = work[index](barrier)
        except BaseException as exc:  # re-raised below, on the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def overdue_conversations(count: int) -> None:
    for _ in range(count):
        conversation = factories.conversation(now=T0 - 2 * 60 * MINUTE)
        sla_on_customer_message(conversation_id=conversation.pk, at=conversation.created_at, now=T0)


def test_two_concurrent_scans_record_each_warning_and_breach_once(broadcasts):
    policy = factories.sla_policy(
        is_default=True, warning_percent=50, targets={"medium": (60, None, None)}
    )
    late = factories.tag(name="late")
    factories.escalation_action(policy=policy, action="add_tag", tag=late, team_id=None)
    overdue_conversations(30)

    def scanner(barrier: threading.Barrier) -> int:
        barrier.wait()
        return scan.sla_clocks_scan(now=T0, batch_size=4)

    recorded = side_by_side(scanner, scanner)

    assert sum(recorded) == 60
    assert Counter(ClockEvent.objects.values_list("kind", flat=True)) == {
        "warning": 30,
        "breached": 30,
    }
    assert Counter(event["type"] for event in broadcasts) == {
        "sla.warning": 30,
        "sla.breached": 30,
        "conversation.changed": 30,  # the tag each escalation added
    }
    assert not ClockEvent.objects.filter(
        kind=ClockEvent.Kind.BREACHED, escalated_at__isnull=True
    ).exists()
    assert late.conversations.count() == 30
    assert not Clock.objects.filter(next_check_at__lte=T0).exists()


def test_two_scanners_that_read_the_same_due_clock_claim_it_once():
    """Without row locks in the way, the conditional update is what settles the race."""
    factories.sla_policy(is_default=True, targets={"medium": (60, None, None)})
    overdue_conversations(1)
    clock_id = Clock.objects.get().pk

    def scanner(barrier: threading.Barrier) -> list[ClockEvent]:
        with transaction.atomic():
            clock = Clock.objects.get(pk=clock_id)
            barrier.wait()  # both have read the clock as due before either writes
            return scan.clock_claim(clock, now=T0)

    claims = side_by_side(scanner, scanner)

    assert sorted(len(events) for events in claims) == [0, 1]
    assert Clock.objects.get().breached_at == T0
