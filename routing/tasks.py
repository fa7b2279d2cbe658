from celery import shared_task
from django.db import OperationalError

from routing import services

# Retried: a dropped connection or a lock timeout is transient, and both services re-read the
# state, so running them again is harmless.
RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 1, "max_retries": 5}


@shared_task(name="routing.conversation_route", acks_late=True, **RETRY)
def conversation_route_task(*, conversation_id: int) -> None:
    services.conversation_route(conversation_id=conversation_id)


@shared_task(name="routing.queue_drain", acks_late=True, **RETRY)
def queue_drain_task(*, team_id: int) -> None:
    services.queue_drain(team_id=team_id)


@shared_task(name="routing.queues_sweep")
def queues_sweep_task() -> None:
    services.queues_sweep()
