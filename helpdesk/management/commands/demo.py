"""`manage.py demo` (`make demo`): the whole product on one machine, with simulated customers.

It migrates the database, resets an admin account, connects one sandbox channel per platform,
serves the ASGI app with uvicorn and, once the server is up, feeds it: a simulator thread posts
signed webhook deliveries for the five webhook platforms, a beat thread sweeps pending
webhook events and polls Bluesky (the sandbox PDS this same server serves), and an agent
thread answers waiting customers, so replies go out through the sandbox platform and their
status moves from pending to sent, then (Messenger, Instagram) delivered and read.
"""

import contextlib
import itertools
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType

import requests
import uvicorn
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection, connections
from django.db.models import F, Max, Q
from django.utils import timezone

from helpdesk.errors import DomainError
from inbox.models import Conversation, Message
from inbox.services import conversation_status_set, reply_queue
from integrations.channels import channel_create
from integrations.models import Channel, Platform
from integrations.polling import bluesky_channel_ids, bluesky_channel_poll
from integrations.services import webhook_events_sweep
from routing.services import team_member_ensure
from sandbox.simulator import (
    WEBHOOK_PLATFORMS,
    Simulator,
    channel_rotation,
    deliveries_post,
)
from sla.services.policies import STARTER_TARGETS, policy_default_ensure

logger = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
BEAT_SECONDS = 10
# Each simulator round posts a few deliveries, then pauses: a steady trickle of customers.
SIMULATOR_ROUND_DELIVERIES = 3
SIMULATOR_RATE = 2.0
SIMULATOR_PAUSE_SECONDS = 4
SERVER_START_TIMEOUT_SECONDS = 30
# The demo agent answers a few waiting conversations every few seconds.
AGENT_ROUND_SECONDS = 7
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
AGENT_REPLIES_PER_ROUND = 2
# A conversation the demo agent answered and the customer left alone this long is resolved,
# so the demo's backlog stays the size of a working team's.
AGENT_RESOLVES_AFTER_SECONDS = 90
AGENT_REPLIES = (
    "Thanks for reaching out! I'm looking into it right now.",
    "Sorry about that! I've passed it to our team and will update you shortly.",
    "Thanks for your patience: it's sorted now. Anything else I can help with?",
)


@dataclass(frozen=True)
class SandboxChannel:
    platform: str
    account_id: str
    name: str


SANDBOX_CHANNELS = (
    SandboxChannel(Platform.FACEBOOK, "104857362918473", "Acme Store (Facebook Page)"),
    SandboxChannel(Platform.INSTAGRAM, "17841400987654321", "Acme Store (Instagram)"),
    SandboxChannel(Platform.X, "1517369840123456512", "Acme Support (X)"),
    SandboxChannel(Platform.LINKEDIN, "urn:li:organization:81234567", "Acme Corp (LinkedIn)"),
    SandboxChannel(Platform.BLUESKY, "did:plc:7kq2mzx4vw3nb5td6hryaj2e", "Acme Support (Bluesky)"),
    SandboxChannel(Platform.TELEGRAM, "7012345678", "Acme Help (Telegram bot)"),
)


@dataclass(frozen=True)
class DemoSetup:
    admin_password: str
    channels: list[Channel]


def local_url(*, host: str, port: int) -> str:
    """Return the URL a browser on this machine reaches the server at."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104  (wildcard binds are reached via loopback)
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def demo_prepare(*, base_url: str) -> DemoSetup:
    """Migrate, reset the admin account and ensure the six sandbox channels exist.

    `base_url` is where the server will listen: the sandbox Bluesky channel polls it.
    """
    _sqlite_directory_ensure()
    call_command("migrate", interactive=False, verbosity=0)
    password = _admin_reset()
    channels = [_sandbox_channel_ensure(spec, base_url=base_url) for spec in SANDBOX_CHANNELS]
    _demo_team_ensure(channels=channels)
    policy_default_ensure(name="Demo standard", targets=STARTER_TARGETS, business_hours=False)
    return DemoSetup(admin_password=password, channels=channels)


def demo_database_delete() -> None:
    """Delete the embedded SQLite database (with its WAL files), so the demo starts empty."""
    if connection.vendor != "sqlite":
        raise CommandError(
            "--reset deletes the embedded SQLite database only; on PostgreSQL drop and create "
            "the database yourself (dropdb, createdb)."
        )
    connections.close_all()
    name = str(connection.settings_dict["NAME"])
    for path in (name, f"{name}-wal", f"{name}-shm"):
        Path(path).unlink(missing_ok=True)


def _sqlite_directory_ensure() -> None:
    # SQLite creates the database file on first use, but not the directory it lives in.
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and name != ":memory:" and not name.startswith("file:"):
        Path(name).parent.mkdir(parents=True, exist_ok=True)


def _admin_reset() -> str:
    """Create the admin superuser, or give it a new password; return the password."""
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(
        username=ADMIN_USERNAME, defaults={"email": "admin@example.com"}
    )
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return password


def _demo_team_ensure(*, channels: list[Channel]) -> None:
    """A round-robin team serving the sandbox channels, with the admin as its agent: new
    conversations wait in its queue and reach the admin while their console is open."""
    team_member_ensure(
        user=get_user_model().objects.get(username=ADMIN_USERNAME),
        team_name="Acme support",
        channels=channels,
        capacity=25,
    )


def _generated_secrets(platform: str) -> dict[str, str]:
    if platform == Platform.BLUESKY:
        # Bluesky app passwords look like xxxx-xxxx-xxxx-xxxx; the sandbox PDS takes any.
        return {"access_token": "-".join(secrets.token_hex(2) for _ in range(4))}
    generated = {"app_secret": secrets.token_urlsafe(32), "access_token": secrets.token_urlsafe(32)}
    if platform in (Platform.FACEBOOK, Platform.INSTAGRAM):
        generated["verify_token"] = secrets.token_urlsafe(16)
    return generated


def _sandbox_channel_ensure(spec: SandboxChannel, *, base_url: str) -> Channel:
    """Return the sandbox channel of `spec`, creating it with fresh secrets the first time.
    Its API is the sandbox platform this server serves: Bluesky is polled there, and every
    channel's replies go there."""
    api_base_url = f"{base_url}/sandbox/{spec.platform}"
    channel = Channel.objects.filter(platform=spec.platform, account_id=spec.account_id).first()
    if channel is None:
        return channel_create(
            platform=spec.platform,
            account_id=spec.account_id,
            name=spec.name,
            api_base_url=api_base_url,
            sandbox=True,
            **_generated_secrets(spec.platform),
        )
    # The server may listen on another port than last time.
    if channel.api_base_url != api_base_url:
        channel.api_base_url = api_base_url
        channel.save(update_fields=["api_base_url", "updated_at"])
    return channel


def server_started_wait(*, server: uvicorn.Server, stop: threading.Event, timeout: float) -> bool:
    """Wait until uvicorn accepts connections; return False on `stop` or after `timeout`."""
    deadline = time.monotonic() + timeout
    while not server.started:
        if stop.wait(0.05) or time.monotonic() > deadline:
            return False
    return True


def _simulate_forever(
    *, server: uvicorn.Server, base_url: str, channels: list[Channel], stop: threading.Event
) -> None:
    """Post a few signed deliveries to the channels, round after round."""
    if not server_started_wait(server=server, stop=stop, timeout=SERVER_START_TIMEOUT_SECONDS):
        return
    simulator = Simulator()
    rotation = channel_rotation(
        channels={channel.platform: [channel] for channel in channels}, rng=simulator.rng
    )
    with requests.Session() as session:
        while not stop.is_set():
            try:
                report = deliveries_post(
                    base_url=base_url,
                    simulator=simulator,
                    channels=rotation,
                    count=SIMULATOR_ROUND_DELIVERIES,
                    rate=SIMULATOR_RATE,
                    session=session,
                    stop=stop,
                )
                logger.info("Simulator: %s", report.statuses())
            except Exception:  # noqa: BLE001  (the demo keeps going; the next round may work)
                logger.exception("Simulator round failed")
            stop.wait(SIMULATOR_PAUSE_SECONDS)


def _beat_forever(*, server: uvicorn.Server, stop: threading.Event) -> None:
    """Do what Celery beat does in production: sweep webhook events, poll Bluesky."""
    if not server_started_wait(server=server, stop=stop, timeout=SERVER_START_TIMEOUT_SECONDS):
        return
    while not stop.is_set():
        _beat_job("webhook sweep", webhook_events_sweep)
        for channel_id in bluesky_channel_ids():
            if stop.is_set():
                break
            _beat_job(
                f"Bluesky poll of channel {channel_id}", bluesky_channel_poll, channel_id=channel_id
            )
        close_old_connections()
        stop.wait(BEAT_SECONDS)
    connections.close_all()


def _beat_job(name: str, job: Callable[..., object], **kwargs: int) -> None:
    try:
        job(**kwargs)
    except Exception:  # noqa: BLE001  (logged; the next beat tries again)
        logger.exception("Demo beat: %s failed", name)


def _waiting_conversations(*, limit: int) -> list[Conversation]:
    """Return sandbox conversations whose customer wrote after the last agent reply."""
    inbound, outbound = Message.Direction.INBOUND, Message.Direction.OUTBOUND
    return list(
        Conversation.objects.filter(
            status__in=Conversation.ACTIVE_STATUSES,
            channel__mode=Channel.Mode.SANDBOX,
            channel__is_active=True,
        )
        .annotate(
            customer_at=Max("messages__created_at", filter=Q(messages__direction=inbound)),
            agent_at=Max("messages__created_at", filter=Q(messages__direction=outbound)),
        )
        .filter(
            Q(agent_at__isnull=True) | Q(agent_at__lt=F("customer_at")), customer_at__isnull=False
        )
        .select_related("channel")
        .order_by("customer_at")[:limit]
    )


def _answered_conversations(*, quiet_for_seconds: int) -> list[int]:
    """Return the ids of sandbox conversations whose last message is an agent's reply older
    than `quiet_for_seconds`."""
    inbound, outbound = Message.Direction.INBOUND, Message.Direction.OUTBOUND
    return list(
        Conversation.objects.filter(
            status__in=Conversation.ACTIVE_STATUSES, channel__mode=Channel.Mode.SANDBOX
        )
        .annotate(
            customer_at=Max("messages__created_at", filter=Q(messages__direction=inbound)),
            agent_at=Max("messages__created_at", filter=Q(messages__direction=outbound)),
        )
        .filter(
            agent_at__gt=F("customer_at"),
            agent_at__lt=timezone.now() - timedelta(seconds=quiet_for_seconds),
        )
        .values_list("pk", flat=True)
    )


def _agent_forever(*, server: uvicorn.Server, stop: threading.Event) -> None:
    """Answer waiting customers as the admin, through the sandbox platform (Celery runs
    in-process: the reply is sent from the web process's task thread)."""
    if not server_started_wait(server=server, stop=stop, timeout=SERVER_START_TIMEOUT_SECONDS):
        return
    agent = get_user_model().objects.get(username=ADMIN_USERNAME)
    replies = itertools.cycle(AGENT_REPLIES)
    while not stop.wait(AGENT_ROUND_SECONDS):
        for conversation in _waiting_conversations(limit=AGENT_REPLIES_PER_ROUND):
            try:
                reply_queue(
                    conversation=conversation,
                    author=agent,
                    text=next(replies),
                    client_token=uuid.uuid4(),
                )
            except DomainError as exc:  # e.g. a conversation outside the platform's window
                logger.info("Demo agent skipped conversation %s: %s", conversation.pk, exc.message)
            except Exception:  # noqa: BLE001  (the demo keeps going; the next round may work)
                logger.exception("Demo agent reply failed")
        for conversation_id in _answered_conversations(quiet_for_seconds=AGENT_RESOLVES_AFTER_SECONDS):
            try:
                conversation_status_set(conversation_id=conversation_id, status=Conversation.Status.RESOLVED)
            except DomainError as exc:  # e.g. the customer wrote again meanwhile
                logger.info("Demo agent left conversation %s open: %s", conversation_id, exc.message)
        close_old_connections()
    connections.close_all()


class _Server(uvicorn.Server):
    """uvicorn's server, which also tells the demo's threads to stop as soon as Ctrl-C is
    pressed, before it stops accepting connections, so they never call a closed server."""

    def __init__(self, config: uvicorn.Config, *, stop: threading.Event) -> None:
        super().__init__(config)
        self.stop = stop

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stop.set()
        super().handle_exit(sig, frame)


def demo_serve(*, host: str, port: int, simulated: list[Channel]) -> None:
    """Serve the app until Ctrl-C, with the beat and the simulator in background threads.

    The simulator posts to the `simulated` channels only (none: no simulator), so that
    channels connected for real never receive made-up customers.
    """
    stop = threading.Event()
    config = uvicorn.Config(
        "helpdesk.asgi:application", host=host, port=port, lifespan="off", access_log=False
    )
    server = _Server(config, stop=stop)
    workers = [
        threading.Thread(target=_beat_forever, kwargs={"server": server, "stop": stop}),
        threading.Thread(target=_agent_forever, kwargs={"server": server, "stop": stop}),
    ]
    if simulated:
        base_url = local_url(host=host, port=port)
        simulator_kwargs = {"server": server, "base_url": base_url, "channels": simulated}
        workers.append(
            threading.Thread(target=_simulate_forever, kwargs={**simulator_kwargs, "stop": stop})
        )
    for worker in workers:
        worker.daemon = True
        worker.start()
    try:
        server.run()  # returns after Ctrl-C (and re-raises it as KeyboardInterrupt)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=15)


class Command(BaseCommand):
    help = (
        "Run the product locally: migrate, reset the admin password, connect six sandbox "
        "channels, serve the app and simulate customers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--reset", action="store_true", help="Start from an empty database (the embedded SQLite file is deleted)."
        )
        parser.add_argument(
            "--no-simulator",
            action="store_true",
            help="Do not post simulated webhook deliveries (Bluesky is still polled).",
        )

    def handle(self, *args, **options) -> None:
        if options["reset"]:
            demo_database_delete()
        if options["host"] not in LOOPBACK_HOSTS:
            # Served to the network: browsers reach it by an address this process cannot know.
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "*"]
        base_url = local_url(host=options["host"], port=options["port"])
        setup = demo_prepare(base_url=base_url)
        simulated = (
            []
            if options["no_simulator"]
            else [channel for channel in setup.channels if channel.platform in WEBHOOK_PLATFORMS]
        )
        self._welcome(base_url=base_url, setup=setup, simulate=bool(simulated))
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the demo ends
            demo_serve(host=options["host"], port=options["port"], simulated=simulated)
        self.stdout.write("Demo stopped.")

    def _welcome(self, *, base_url: str, setup: DemoSetup, simulate: bool) -> None:
        write, bold = self.stdout.write, self.style.SUCCESS
        write(bold(f"Login: user {ADMIN_USERNAME}  password {setup.admin_password}"))
        write(bold(f"Agent console: {base_url}/"))
        write(f"Admin:         {base_url}/admin/  (conversations: {base_url}/admin/inbox/conversation/)")
        write(f"API docs:      {base_url}/api/docs/")
        write("Sandbox channels:")
        for channel in setup.channels:
            write(f"  {channel.get_platform_display():<9} {channel.name}")
        if simulate:
            write("Simulated customers write every few seconds on every platform.")
        write(
            f"A demo agent answers waiting customers every {AGENT_ROUND_SECONDS} s through the sandbox "
            "platform: watch each reply's status go pending → sent (→ delivered → read on Messenger "
            f"and Instagram), and resolves what stayed quiet for {AGENT_RESOLVES_AFTER_SECONDS} s."
        )
        if settings.SANDBOX_PLATFORMS_ENABLED:
            write(f"Bluesky is polled from the sandbox PDS every {BEAT_SECONDS} s.")
        else:
            write(self.style.WARNING("SANDBOX_PLATFORMS_ENABLED is off: no sandbox Bluesky PDS."))
        write("Press Ctrl-C to stop.")
