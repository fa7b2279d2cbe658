"""`manage.py simulate`: post realistic, signed webhook deliveries to a running server."""

from collections.abc import Callable

import requests
from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.errors import DomainError
from integrations.models import Platform
from sandbox.simulator import (
    SimulationReport,
    Simulator,
    channel_rotation,
    deliveries_post,
    simulation_channels,
)


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(value: str) -> int | float:
        number = kind(value)
        if number <= 0:
            raise ValueError(value)
        return number

    parse.__name__ = kind.__name__  # argparse names the type in its error message
    return parse


class Command(BaseCommand):
    help = (
        "Post simulated customer messages, signed with each channel's secret, to the server "
        "at --base-url, for the active channels of the chosen platforms."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
        parser.add_argument("--count", type=_positive(int), default=20)
        parser.add_argument(
            "--rate", type=_positive(float), default=2.0, help="Deliveries per second."
        )
        parser.add_argument(
            "--platforms",
            default="",
            help="Comma-separated, e.g. facebook,x (default: every platform with a channel).",
        )
        parser.add_argument("--seed", type=int, help="Repeat the same customers and texts.")

    def handle(self, *args, **options) -> None:
        platforms = self._platforms(options["platforms"])
        simulator = Simulator(seed=options["seed"])
        try:
            channels = simulation_channels(platforms=platforms)
            with requests.Session() as session:
                report = deliveries_post(
                    base_url=options["base_url"],
                    simulator=simulator,
                    channels=channel_rotation(channels=channels, rng=simulator.rng),
                    count=options["count"],
                    rate=options["rate"],
                    session=session,
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self._summary(report)

    def _platforms(self, value: str) -> list[str] | None:
        """Return the platforms asked for (None: all), leaving out Bluesky with a note."""
        if not value.strip():
            return None
        platforms = [name.strip().lower() for name in value.split(",") if name.strip()]
        if Platform.BLUESKY in platforms:
            self.stdout.write(
                "Skipping bluesky: it is polled, not posted to. Its sandbox traffic comes from "
                "the sandbox PDS (/sandbox/bluesky/)."
            )
            platforms = [name for name in platforms if name != Platform.BLUESKY]
            if not platforms:
                raise CommandError("Nothing to simulate: Bluesky has no webhooks.")
        return platforms

    def _summary(self, report: SimulationReport) -> None:
        self.stdout.write(f"Sent {report.sent} deliveries: {report.statuses()}.")
        for platform, count in sorted(report.by_platform.items()):
            self.stdout.write(f"  {platform}: {count}")
