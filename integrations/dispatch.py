"""Hand stored webhook events to Celery without making the platform wait on the broker.

A webhook answers as soon as its row is committed. Publishing the processing task is done by
one background thread per process, which sends the ids that arrived together as one task, so
under load the broker sees a few messages, not one per delivery. Nothing depends on this
thread for durability: an id it could not publish (broker down, process killed) belongs to a
row still `pending`, which the sweeper enqueues again.
"""

import logging
import queue
import time

from django.db import close_old_connections

from helpdesk.background import QueueThread

logger = logging.getLogger(__name__)

MAX_BATCH = 50
# How long the dispatcher waits for more ids to share one task. Publishing costs about as
# much CPU as the whole acknowledgement, so sharing it is what keeps the webhook near the
# cost of a bare INSERT (bench/ingest.py); processing starts at most this much later.
GATHER_SECONDS = 0.05


def enqueue_processing(event_ids: list[int]) -> None:
    """Publish one processing task for these events; on failure leave them to the sweeper,
    marked as never enqueued so that it takes them at its next run."""
    from integrations.models import WebhookEvent
    from integrations.tasks import webhook_events_process_task

    try:
        webhook_events_process_task.delay(event_ids=event_ids)
    except Exception:  # noqa: BLE001  (broker unreachable: the rows stay pending for the sweeper)
        logger.warning("Could not enqueue webhook events %s; the sweeper will retry them.", event_ids, exc_info=True)
        WebhookEvent.objects.filter(pk__in=event_ids, status=WebhookEvent.Status.PENDING).update(enqueued_at=None)


def processing_waiting() -> int | None:
    """How many processing tasks wait in the broker's queue; None if it cannot say."""
    from kombu.exceptions import ChannelError, OperationalError

    from helpdesk.celery import app
    from integrations.tasks import webhook_events_process_task

    if app.conf.task_always_eager:
        return 0
    queue = app.amqp.router.route({}, webhook_events_process_task.name)["queue"].name
    try:
        with app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError:  # the broker drops an empty queue: nothing waits
        return 0
    except (OperationalError, OSError):
        logger.warning("The broker cannot say what waits in the %s queue.", queue, exc_info=True)
        return None


def _publish_batches(pending: queue.Queue) -> None:
    while True:
        batch = [pending.get()]
        deadline = time.monotonic() + GATHER_SECONDS
        while len(batch) < MAX_BATCH and (remaining := deadline - time.monotonic()) > 0:
            try:
                batch.append(pending.get(timeout=remaining))
            except queue.Empty:
                break
        try:
            enqueue_processing(batch)
        finally:
            # A refused batch is marked in the database from this thread: give its
            # connection back rather than hold it for the life of the process.
            close_old_connections()
            for _ in batch:
                pending.task_done()


_dispatcher = QueueThread(name="webhook-dispatcher", consume=_publish_batches)
processing_dispatch_flush = _dispatcher.flush


def processing_dispatch(event_id: int) -> None:
    """Have the event processed: at once when tasks run in-process, else via the dispatcher."""
    from helpdesk.celery import app

    if app.conf.task_always_eager:
        enqueue_processing([event_id])
    else:
        _dispatcher.put(event_id)
