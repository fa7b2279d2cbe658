"""Celery application: eager in the embedded setup, Redis-backed when REDIS_URL is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
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
