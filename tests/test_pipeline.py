"""The production pipeline on real services: a Celery worker on Redis processes what the
webhook stored in PostgreSQL, and broadcasts cross processes through channels-redis."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import connection

from helpdesk.celery import app as celery_app
from helpdesk.celery import queue_names, queues_purge
from inbox.models import Message
from inbox.services import message_ingest
from integrations.models import Platform, WebhookEvent
from integrations.platforms import meta
from tests import factories
from tests.integrations.platform_fixtures import load_example

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 60


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def celery_worker_process():
    """A real worker process, on the same broker and test database as this test."""
    celery_app.conf.task_always_eager = False
    queues_purge()
    env = {"PATH": str(Path(sys.executable).parent), "DATABASE_URL": _database_url(),
           "REDIS_URL": settings.REDIS_URL, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=solo", "--loglevel=WARNING",
         "-Q", ",".join(queue_names()),
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    yield worker
    worker.terminate()
    worker.wait(timeout=30)


def _wait_for(condition) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)  # polling a condition with a deadline, not a fixed wait
    return False


@pytest.mark.requires_postgres
@pytest.mark.requires_redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_processes_the_stored_webhook(client, celery_worker_process):
    factories.channel(platform=Platform.FACEBOOK, account_id="104857362918473")
    body = json.dumps(load_example("meta", "messenger_text")).encode()
    headers = meta.signature_headers(body=body, secret=factories.SECRETS[Platform.FACEBOOK])
    response = client.post("/webhooks/facebook/", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    processed = _wait_for(lambda: WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).exists())
    assert processed, celery_worker_process.stderr.read1().decode() if celery_worker_process.poll() else "timeout"
    assert Message.objects.get().content == load_example("meta", "messenger_text")["entry"][0]["messaging"][0][
        "message"]["text"]


@pytest.mark.requires_redis
@pytest.mark.django_db
def test_new_message_reaches_another_process_through_redis(django_capture_on_commit_callbacks):
    channel = factories.channel()
    elsewhere = RedisChannelLayer(hosts=[settings.REDIS_URL])  # as another web process would hold
    listener = async_to_sync(elsewhere.new_channel)()
    async_to_sync(elsewhere.group_add)("inbox.all", listener)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_ingest(channel=channel, event=factories.inbound_event())
    received = async_to_sync(elsewhere.receive)(listener)
    assert (received["type"], received["message_id"]) == ("message.created", message.pk)
