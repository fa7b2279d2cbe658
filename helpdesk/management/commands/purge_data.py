from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from helpdesk.services import retention_apply


def _days(value: str) -> int:
    days = int(value)
    if days < 0:
        raise ValueError(value)
    return days


class Command(BaseCommand):
    help = (
        "Remove processed or failed raw webhook deliveries and the text of messages in inactive "
        "conversations older than the retention periods (as beat does daily). 0 days keeps them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--webhook-event-days", type=_days, default=None,
                            help="Default: RETENTION_WEBHOOK_EVENT_DAYS.")
        parser.add_argument("--message-body-days", type=_days, default=None,
                            help="Default: RETENTION_MESSAGE_BODY_DAYS.")

    def handle(self, *args, **options) -> None:
        webhook_event_days = options["webhook_event_days"]
        message_body_days = options["message_body_days"]
        if webhook_event_days is None:
            webhook_event_days = settings.RETENTION_WEBHOOK_EVENT_DAYS
        if message_body_days is None:
            message_body_days = settings.RETENTION_MESSAGE_BODY_DAYS
        if not (webhook_event_days or message_body_days):
            raise CommandError("Both retention periods are 0 (keep for ever): nothing to purge.")
        purged = retention_apply(
            now=timezone.now(), webhook_event_days=webhook_event_days, message_body_days=message_body_days
        )
        self.stdout.write(
            f"Purged {purged['webhook_events']} webhook event(s) and the text of {purged['message_bodies']} message(s)."
        )
