"""The embedded default (no broker) runs tasks in a background thread of the web process: a
webhook's acknowledgement is one INSERT, as in production, and processing follows."""

import json
import threading

import pytest

from helpdesk.background import tasks_thread
from inbox.models import Message
from integrations.models import Platform, WebhookEvent
from integrations.platforms import telegram
from integrations.selectors import signing_channels
from tests import factories
from tests.integrations.platform_fixtures import load_example

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def embedded_thread(settings):
    settings.EMBEDDED_TASK_THREAD = True
    yield
    assert tasks_thread.flush(timeout=30)


def test_the_ack_is_one_insert_and_processing_runs_after_it_in_the_background(
    client, embedded_thread, django_assert_num_queries
):
    bot = factories.channel(platform=Platform.TELEGRAM)
    signing_channels(platforms=[Platform.TELEGRAM])  # the per-process cache, as after the first delivery
    body = json.dumps(load_example("telegram", "dm_text")).encode()
    headers = telegram.signature_headers(body=body, secret=factories.SECRETS[Platform.TELEGRAM])
    held = threading.Event()
    tasks_thread.put(lambda: held.wait(timeout=30))  # the thread is busy with earlier work

    with django_assert_num_queries(1):  # the event's INSERT: no channel read, no processing
        response = client.post(
            f"/webhooks/telegram/{bot.pk}/", data=body, content_type="application/json", headers=headers
        )

    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PENDING
    held.set()
    assert tasks_thread.flush(timeout=30)
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert Message.objects.get().channel_id == bot.pk


def test_a_failing_task_does_not_stop_the_thread(embedded_thread):
    tasks_thread.put(lambda: 1 / 0)
    ran = threading.Event()
    tasks_thread.put(ran.set)
    assert tasks_thread.flush(timeout=30)
    assert ran.is_set()
