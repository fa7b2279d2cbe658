"""Each kind of Celery work goes to its own queue, so one kind's backlog never delays another's."""

import pytest
from django.conf import settings

from helpdesk.celery import app


@pytest.fixture(autouse=True, scope="module")
def _tasks_registered():
    app.loader.import_default_modules()  # what a worker does at start: every app's tasks


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("integrations.webhook_events_process", "ingest"),
        ("inbox.reply_send", "replies"),
        ("routing.conversation_route", "routing"),
        ("routing.queue_drain", "routing"),
        ("sla.clocks_scan", "sla"),
        ("sla.breaches_escalate", "sla"),
        ("sla.team_reassign", "sla"),
        ("integrations.bluesky_channel_poll", "polls"),
        ("integrations.channels_sync", "polls"),
        ("integrations.webhook_events_sweep", "sweeps"),
        ("inbox.replies_sweep", "sweeps"),
        ("routing.queues_sweep", "sweeps"),
        ("sla.escalations_sweep", "sweeps"),
    ],
)
def test_each_kind_of_work_has_its_queue(task_name, queue):
    assert task_name in app.tasks
    assert queue_of(task_name) == queue


def test_periodic_work_never_waits_behind_ingest_or_replies():
    queues = {queue_of(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert queues.isdisjoint({"ingest", "replies"}), queues
