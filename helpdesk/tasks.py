from celery import shared_task
from django.conf import settings
from django.utils import timezone

from helpdesk.services import retention_apply


@shared_task(name="helpdesk.retention_apply")
def retention_apply_task() -> None:
    retention_apply(
        now=timezone.now(),
        webhook_event_days=settings.RETENTION_WEBHOOK_EVENT_DAYS,
        message_body_days=settings.RETENTION_MESSAGE_BODY_DAYS,
    )
