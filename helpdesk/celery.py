"""Celery application: Redis-backed when REDIS_URL is set; in the embedded setup, tasks run
in-process, in the web process's background task thread (helpdesk/background.py)."""

import os
from uuid import uuid4

from celery import Celery
from celery import Task as CeleryTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")


class Task(CeleryTask):
    """Run in-process tasks off the caller's thread when EMBEDDED_TASK_THREAD is on: the
    embedded default's stand-in for a broker and a worker. Tasks enqueued by a task already
    in that thread run at once, as nested eager tasks do."""

    def apply_async(self, args=None, kwargs=None, **options):
        from django.conf import settings

        from helpdesk.background import tasks_thread

        if not (self.app.conf.task_always_eager and settings.EMBEDDED_TASK_THREAD) or tasks_thread.is_current():
            return super().apply_async(args, kwargs, **options)
        task_id = options.setdefault("task_id", str(uuid4()))
        run = super().apply_async
        tasks_thread.put(lambda: run(args, kwargs, **options))
        return self.AsyncResult(task_id)


app = Celery("helpdesk", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def queue_names() -> list[str]:
    """Every queue a task is routed to, the default one included: what a worker serving all
    work (tests, benchmarks) names with `-Q`."""
    from django.conf import settings

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return sorted(routed | {settings.CELERY_TASK_DEFAULT_QUEUE})


def queues_purge() -> None:
    """Drop every task waiting in any of the queues (tests and benchmarks start empty)."""
    with app.connection_for_write() as connection:
        for queue in queue_names():
            connection.default_channel.queue_purge(queue)
