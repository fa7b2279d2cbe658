from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from integrations.models import Platform, WebhookEvent
from integrations.services import webhook_events_replay


def _instant(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(f"{value!r} is not an ISO 8601 date-time with a time zone (e.g. 2026-11-25T09:00:00Z).")
    return parsed


class Command(BaseCommand):
    help = "Process stored webhook events again: by id, by time range, or the failed ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--id", type=int, nargs="+", action="extend", dest="ids", default=[],
            help="Event ids: --id 1 2, or --id 1 --id 2.",
        )
        parser.add_argument("--since", type=_instant, help="Events received at or after this time.")
        parser.add_argument("--until", type=_instant, help="Events received before this time.")
        parser.add_argument("--failed", action="store_true", help="Only events whose processing failed.")
        parser.add_argument("--platform", choices=Platform.values, help="Only events of this platform.")

    def handle(self, *args, ids, since, until, failed, platform, **options):
        if not (ids or since or until or failed):
            raise CommandError("Say which events to replay: --id, --since/--until or --failed.")
        events = WebhookEvent.objects.all()
        if ids:
            missing = set(ids) - set(events.filter(pk__in=ids).values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No webhook event with id {', '.join(map(str, sorted(missing)))}.")
            events = events.filter(pk__in=ids)
        if since:
            events = events.filter(received_at__gte=since)
        if until:
            events = events.filter(received_at__lt=until)
        if failed:
            events = events.filter(status=WebhookEvent.Status.FAILED)
        if platform:
            events = events.filter(platform=platform)
        outcomes = webhook_events_replay(events=events)
        total = sum(outcomes.values())
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items())) or "nothing to do"
        self.stdout.write(f"Replayed {total} event(s): {summary}.")
