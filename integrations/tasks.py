from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from integrations import polling, services, sync

# How far back the periodic sync looks for conversations.
SYNC_LOOKBACK = timedelta(days=1)


@shared_task(name="integrations.webhook_events_process", acks_late=True)
def webhook_events_process_task(*, event_ids: list[int]) -> None:
    services.webhook_events_take(event_ids=event_ids)
    # The events that arrived together are ingested as one batch; a failed batch falls back
    # to processing and recording each event on its own.
    services.webhook_events_process(event_ids=event_ids)


@shared_task(name="integrations.webhook_events_sweep")
def webhook_events_sweep_task() -> None:
    services.webhook_events_sweep()


@shared_task(name="integrations.bluesky_channels_poll")
def bluesky_channels_poll_task() -> None:
    for channel_id in polling.bluesky_channel_ids():
        bluesky_channel_poll_task.delay(channel_id=channel_id)


@shared_task(name="integrations.bluesky_channel_poll", ignore_result=True)
def bluesky_channel_poll_task(*, channel_id: int) -> None:
    polling.bluesky_channel_poll(channel_id=channel_id)


@shared_task(name="integrations.channels_sync")
def channels_sync_task() -> None:
    """List every active account's recent conversations, recording each channel's last sync."""
    sync.conversations_overview(channels=sync.sync_channels(), since=timezone.now() - SYNC_LOOKBACK)
