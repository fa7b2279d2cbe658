from celery import shared_task

from integrations import services


@shared_task(name="integrations.webhook_event_process", acks_late=True)
def webhook_event_process_task(*, event_id: int) -> None:
    services.webhook_event_process(event_id=event_id)


@shared_task(name="integrations.webhook_events_sweep")
def webhook_events_sweep_task() -> None:
    services.webhook_events_sweep()
