"""`manage.py sync_channels --since ISO`: backfill history through the idempotent ingest."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from helpdesk.errors import DomainError
from integrations.outbound import SyncUnsupported
from integrations.sync import channel_backfill, sync_channels


def _since(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(
            f"--since takes an ISO 8601 time with its offset, e.g. 2026-11-01T00:00:00Z; not {value!r}."
        )
    return parsed


class Command(BaseCommand):
    help = (
        "Fetch every active channel's conversations and messages since --since from its platform "
        "and ingest them; messages already stored are skipped, so it can run again at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="ISO 8601, e.g. 2026-11-01T00:00:00Z")
        parser.add_argument(
            "--channel", type=int, nargs="+", action="extend",
            help="Channel ids: --channel 1 6, or --channel 1 --channel 6.",
        )
        parser.add_argument("--team", type=int, help="Only the channels of this routing team.")

    def handle(self, *args, **options) -> None:
        since = _since(options["since"])
        failed = 0
        for channel in sync_channels(team_id=options["team"], channel_ids=options["channel"]):
            try:
                report = channel_backfill(channel=channel, since=since)
            except SyncUnsupported as exc:
                self.stdout.write(f"{channel.name}: skipped. {exc.message}")
                continue
            except DomainError as exc:  # a platform error: the other channels still sync
                failed += 1
                self.stderr.write(f"{channel.name}: failed. {exc.message}")
                continue
            self.stdout.write(
                f"{channel.name}: {report.conversations} conversations, {report.messages_ingested} new messages"
            )
        if failed:
            raise CommandError(f"{failed} channel(s) could not be synced.")
