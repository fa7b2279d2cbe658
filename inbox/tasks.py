import random

from celery import shared_task

from inbox.services import replies_stuck, reply_fail, reply_send
from integrations.http import PlatformUnavailable

REPLY_SEND_MAX_RETRIES = 8
REPLY_RETRY_BACKOFF_SECONDS = 5
REPLY_RETRY_BACKOFF_MAX_SECONDS = 600


@shared_task(name="inbox.reply_send", bind=True, acks_late=True, max_retries=REPLY_SEND_MAX_RETRIES)
def reply_send_task(self, *, message_id: int) -> None:
    try:
        reply_send(message_id=message_id)
    except PlatformUnavailable as exc:  # 429, 5xx, no answer: the only errors worth retrying
        if self.request.retries >= self.max_retries:
            reply_fail(
                message_id=message_id,
                reason=f"{exc.message} Gave up after {self.max_retries + 1} attempts.",
            )
            return
        # The platform said when to come back; otherwise back off exponentially, with jitter.
        backoff = min(
            REPLY_RETRY_BACKOFF_MAX_SECONDS, REPLY_RETRY_BACKOFF_SECONDS * 2**self.request.retries
        )
        countdown = (
            exc.retry_after
            if exc.retry_after is not None
            else backoff * (0.5 + random.random() / 2)
        )
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="inbox.replies_sweep")
def replies_sweep_task() -> None:
    for message_id in replies_stuck():
        reply_send_task.delay(message_id=message_id)
