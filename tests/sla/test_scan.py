from datetime import timedelta

import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import Conversation
from sla.models import Clock, ClockEvent, Target
from sla.services.clocks import sla_on_customer_message, sla_on_status_change
from sla.services.scan import sla_clocks_scan
from sla.tasks import sla_clocks_scan_task
from tests import factories
from tests.sla.conftest import T0

MINUTE = timedelta(minutes=1)


def waiting_conversation(at=T0):
    """A conversation whose customer wrote at `at` (default policy: first response in 60 min)."""
    conversation = factories.conversation(now=at)
    sla_on_customer_message(conversation_id=conversation.pk, at=at, now=at)
    return conversation


def scan(now, django_capture_on_commit_callbacks, **options) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return sla_clocks_scan(now=now, **options)


def test_warning_and_breach_are_recorded_once_each_and_broadcast_after_commit(
    db, django_capture_on_commit_callbacks, broadcasts
):
    factories.sla_policy(is_default=True, warning_percent=75, targets={"medium": (60, None, None)})
    conversation = waiting_conversation()
    first = Clock.objects.get(target=Target.FIRST_RESPONSE)

    assert scan(T0 + 44 * MINUTE, django_capture_on_commit_callbacks) == 0
    assert scan(T0 + 45 * MINUTE, django_capture_on_commit_callbacks) == 1
    assert scan(T0 + 50 * MINUTE, django_capture_on_commit_callbacks) == 0
    assert scan(T0 + 60 * MINUTE, django_capture_on_commit_callbacks) == 1
    assert scan(T0 + 90 * MINUTE, django_capture_on_commit_callbacks) == 0

    events = {event.kind: event for event in ClockEvent.objects.all()}
    assert set(events) == {ClockEvent.Kind.WARNING, ClockEvent.Kind.BREACHED}
    assert (events["warning"].due_at, events["warning"].recorded_at) == (
        T0 + 45 * MINUTE,
        T0 + 45 * MINUTE,
    )
    assert events["breached"].due_at == T0 + 60 * MINUTE
    assert [event["type"] for event in broadcasts] == ["sla.warning", "sla.breached"]
    assert broadcasts[0] == {
        "type": "sla.warning",
        "channel_id": conversation.channel_id,
        "conversation_id": conversation.pk,
        "clock_id": first.pk,
        "target": Target.FIRST_RESPONSE,
    }
    first.refresh_from_db()
    assert (first.warned_at, first.breached_at, first.next_check_at) == (
        T0 + 45 * MINUTE,
        T0 + 60 * MINUTE,
        None,
    )


def test_a_late_scan_records_both_the_warning_and_the_breach(
    db, django_capture_on_commit_callbacks
):
    factories.sla_policy(is_default=True, warning_minutes=10, targets={"medium": (60, None, None)})
    waiting_conversation()

    assert scan(T0 + 2 * 60 * MINUTE, django_capture_on_commit_callbacks) == 2


def test_nothing_is_broadcast_if_the_scan_rolls_back(
    policy, django_capture_on_commit_callbacks, broadcasts
):
    waiting_conversation()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sla_clocks_scan(now=T0 + 60 * MINUTE)
    assert callbacks  # they wait for the commit
    assert broadcasts == []


def queries_of_a_scan(now, django_capture_on_commit_callbacks) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        scan(now, django_capture_on_commit_callbacks)
    return [query["sql"] for query in queries.captured_queries]


def test_the_scan_reads_only_due_clocks_so_its_cost_ignores_the_rest(
    policy, django_capture_on_commit_callbacks
):
    waiting_conversation(at=T0 - 2 * 60 * MINUTE)  # owes its first response
    alone = queries_of_a_scan(T0, django_capture_on_commit_callbacks)

    waiting_conversation(at=T0 - 2 * 60 * MINUTE)
    for _ in range(20):
        waiting_conversation(at=T0)  # nothing due
    among_many = queries_of_a_scan(T0, django_capture_on_commit_callbacks)

    assert len(among_many) == len(alone)
    selects = [sql for sql in among_many if sql.startswith("SELECT") and 'FROM "sla_clock"' in sql]
    assert '"sla_clock"."next_check_at" <=' in selects[0]
    assert Clock.objects.filter(next_check_at__lte=T0).count() == 0


def test_batches_repeat_until_every_due_clock_is_flagged(
    policy, django_capture_on_commit_callbacks
):
    for _ in range(5):
        waiting_conversation()

    # Each conversation owes its first response (60 min) and is within its resolution (480).
    assert scan(T0 + 60 * MINUTE, django_capture_on_commit_callbacks, batch_size=2) == 5
    assert ClockEvent.objects.filter(kind=ClockEvent.Kind.BREACHED).count() == 5


def test_a_clock_paused_after_its_deadline_is_still_flagged(
    policy, conversation, django_capture_on_commit_callbacks
):
    sla_on_customer_message(conversation_id=conversation.pk, at=T0, now=T0)
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.PENDING)
    sla_on_status_change(conversation_id=conversation.pk, now=T0 + 61 * MINUTE)

    assert scan(T0 + 61 * MINUTE, django_capture_on_commit_callbacks) == 1
    assert ClockEvent.objects.get().due_at == T0 + 60 * MINUTE


def test_the_beat_task_scans_every_30_seconds_at_the_current_time(
    policy, django_capture_on_commit_callbacks
):
    entry = settings.CELERY_BEAT_SCHEDULE["scan-sla-clocks"]
    assert (entry["task"], entry["schedule"]) == (sla_clocks_scan_task.name, timedelta(seconds=30))
    waiting_conversation()

    with (
        time_machine.travel(T0 + 61 * MINUTE, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sla_clocks_scan_task.delay()

    assert ClockEvent.objects.get().recorded_at == T0 + 61 * MINUTE


def test_the_unique_constraint_refuses_a_second_event_for_the_same_cycle(
    policy, django_capture_on_commit_callbacks, broadcasts
):
    waiting_conversation()
    scan(T0 + 60 * MINUTE, django_capture_on_commit_callbacks)
    # Lose the claim on the clock, as a buggy writer might: the constraint still holds.
    Clock.objects.filter(target=Target.FIRST_RESPONSE).update(
        breached_at=None, next_check_at=T0 + 60 * MINUTE
    )

    assert scan(T0 + 61 * MINUTE, django_capture_on_commit_callbacks) == 0
    assert ClockEvent.objects.count() == 1
    assert [sent["type"] for sent in broadcasts] == ["sla.breached"]
