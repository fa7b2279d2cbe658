"""`manage.py add_channel`: connect a platform account and print where its webhooks go."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.errors import DomainError
from integrations.channels import channel_create, channel_summary
from integrations.models import Platform


class Command(BaseCommand):
    help = (
        "Create a channel and print it as JSON (its webhook URL, and which secrets are set; "
        "never their values)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--platform", required=True, choices=Platform.values)
        parser.add_argument(
            "--account-id",
            required=True,
            help="Page id, Instagram account id, X user id, LinkedIn organization URN, "
            "Bluesky DID or Telegram bot id.",
        )
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--app-secret",
            default="",
            help="Meta app secret, X consumer secret, LinkedIn client secret or Telegram "
            "secret token (every platform but Bluesky).",
        )
        parser.add_argument("--verify-token", default="", help="Meta's hub.verify_token.")
        parser.add_argument(
            "--access-token", default="", help="API token; for Bluesky, the app password."
        )
        parser.add_argument(
            "--api-base-url", default="", help="Leave out for the platform's public API."
        )
        parser.add_argument(
            "--sandbox",
            action="store_true",
            help="Sandbox mode; a Bluesky channel then polls this deployment's sandbox PDS.",
        )

    def handle(self, *args, **options) -> None:
        try:
            channel = channel_create(
                platform=options["platform"],
                account_id=options["account_id"],
                name=options["name"],
                app_secret=options["app_secret"],
                verify_token=options["verify_token"],
                access_token=options["access_token"],
                api_base_url=options["api_base_url"],
                sandbox=options["sandbox"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(channel_summary(channel=channel), indent=2))
