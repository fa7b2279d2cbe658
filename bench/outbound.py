"""Benchmark replies going out through the sandbox platform with the account budget enforced.

A burst of replies (1,000 by default) is queued on one sandbox Facebook Page whose budget is
200 calls per hour, with the hour compressed to a few seconds (PLATFORM_RATE_WINDOW_SCALE),
and sent by a pool of worker threads through the real client, over HTTP, to the sandbox this
same process serves with uvicorn. The sandbox enforces Facebook's 200-per-window limit with
an exact sliding log and counts every 429 it answers. Printed: replies per second, the
platform's 429s (target 0), replies not sent (target 0) and retries.

Usage: .venv/bin/python bench/outbound.py [--replies 1000] [--workers 8] [--window-seconds 2]
Runs on a throwaway SQLite database; needs nothing else.
"""

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import free_port  # noqa: E402  (needs the repository on sys.path)

HOUR = 3600
CONVERSATIONS = 100


def django_setup(*, window_seconds: float) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        SQLITE_PATH=str(Path(tempfile.mkdtemp()) / "bench_outbound.sqlite3"),
        PLATFORM_RATE_WINDOW_SCALE=str(window_seconds / HOUR),
        LOG_LEVEL="ERROR",
    )
    import django

    django.setup()


def serve(port: int):
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            "helpdesk.asgi:application",
            host="127.0.0.1",
            port=port,
            lifespan="off",
            access_log=False,
            log_level="error",
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


def prepare(*, base_url: str, replies: int) -> list[int]:
    """Create a sandbox Page with conversations and queue the replies; return their ids."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from inbox.models import Conversation, Customer, CustomerIdentity, Message
    from inbox.services import replies as reply_services
    from integrations.models import Channel, Platform

    call_command("migrate", interactive=False, verbosity=0)
    channel = Channel.objects.create(
        platform=Platform.FACEBOOK,
        account_id="104857362918473",
        name="Bench Page",
        mode=Channel.Mode.SANDBOX,
        app_secret="bench-secret",  # noqa: S106  (a throwaway sandbox channel)
        access_token=f"bench-token-{uuid.uuid4().hex}",
        api_base_url=f"{base_url}/sandbox/facebook",
    )
    agent = get_user_model().objects.create_user(username="bench-agent", is_staff=True)
    now = timezone.now()
    conversations = []
    for n in range(CONVERSATIONS):
        customer = Customer.objects.create(display_name=f"Customer {n}")
        CustomerIdentity.objects.create(
            customer=customer, platform=Platform.FACEBOOK, external_id=f"psid-{n}"
        )
        conversation = Conversation.objects.create(
            channel=channel,
            customer=customer,
            source="dm",
            external_thread_id=f"psid-{n}",
            created_at=now,
            updated_at=now,
            last_message_at=now,
        )
        Message.objects.create(
            conversation=conversation,
            channel=channel,
            direction="in",
            sender_type="customer",
            content="Where is my order?",
            platform_message_id=f"m_in_{n}",
            created_at=now,
        )
        conversations.append(conversation)
    # Queue only: the workers below send, as Celery workers would.
    reply_services._send_enqueue_on_commit = lambda message_id: None
    return [
        reply_services.reply_queue(
            conversation=conversations[n % CONVERSATIONS],
            author=agent,
            text=f"Reply {n}: your order ships today.",
            client_token=uuid.uuid4(),
        )[0].pk
        for n in range(replies)
    ]


def send_all(message_ids: list[int], *, workers: int) -> dict[str, int]:
    """Send every reply as the task would: retry transient errors after the wait they carry."""
    from django.db import close_old_connections

    from inbox.services import reply_fail, reply_send
    from integrations.http import PlatformUnavailable

    retries = threading.Semaphore(0)

    def send(message_id: int) -> None:
        for _ in range(50):
            try:
                reply_send(message_id=message_id)
                break
            except PlatformUnavailable as exc:
                retries.release()
                time.sleep(min(exc.retry_after or 1.0, 5.0))
        else:
            reply_fail(message_id=message_id, reason="bench: gave up")
        close_old_connections()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(send, message_ids))
    count = 0
    while retries.acquire(blocking=False):
        count += 1
    return {"task_retries": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--window-seconds",
        type=float,
        default=2.0,
        help="What one hour of budget is compressed to.",
    )
    options = parser.parse_args()
    django_setup(window_seconds=options.window_seconds)
    from django.conf import settings

    from inbox.models import Message
    from sandbox.platform import sandbox_stats

    settings.SANDBOX_RECEIPT_DELAYS = (0.2, 0.4)
    port = free_port()
    server = serve(port)
    base_url = f"http://127.0.0.1:{port}"
    message_ids = prepare(base_url=base_url, replies=options.replies)
    sandbox_stats(reset=True)
    calls, window = settings.PLATFORM_RATE_BUDGETS["facebook"]
    print(
        f"Budget: {calls} calls per {window * settings.PLATFORM_RATE_WINDOW_SCALE:g} s (one hour, compressed); "
        f"sandbox limit the same, enforced exactly."
    )
    started = time.perf_counter()
    extra = send_all(message_ids, workers=options.workers)
    elapsed = time.perf_counter() - started
    time.sleep(1.5)  # let the last receipts arrive
    stats = sandbox_stats()
    statuses = {
        status: Message.objects.filter(pk__in=message_ids, delivery_status=status).count()
        for status in ("pending", "sent", "delivered", "read", "failed")
    }
    lost = statuses["pending"] + statuses["failed"]
    print(
        f"Replies: {options.replies} in {elapsed:.1f} s = {options.replies / elapsed:.1f} replies/s "
        f"(budget ceiling {calls / (window * settings.PLATFORM_RATE_WINDOW_SCALE):.0f}/s), {options.workers} workers"
    )
    print(
        f"Platform 429s: {stats['rate_limited']}  accepted calls: {stats['accepted']}  "
        f"client waits handed back to the task: {extra['task_retries']}"
    )
    print(f"Statuses: {statuses}  lost (pending or failed): {lost}")
    server.should_exit = True


if __name__ == "__main__":
    main()
