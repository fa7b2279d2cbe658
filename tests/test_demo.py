"""`manage.py demo`'s preparation: an admin to log in with, one sandbox channel per platform
and a team serving them, whatever state an earlier run left. Serving is not started here."""

import threading
from datetime import timedelta
from unittest.mock import patch

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.db import connection
from django.utils import timezone

from helpdesk.management.commands.demo import (
    ADMIN_USERNAME,
    _answered_conversations,
    demo_database_delete,
    demo_prepare,
    local_url,
    server_started_wait,
)
from inbox.models import Conversation, Message
from inbox.services import message_ingest
from integrations.models import Channel, Platform
from routing.models import Team
from sla.models import Clock, Policy
from tests import factories

BASE_URL = "http://127.0.0.1:8123"


def test_demo_prepare_creates_one_sandbox_channel_per_platform(transactional_db):
    setup = demo_prepare(base_url=BASE_URL)
    channels = Channel.objects.all()
    assert {channel.platform for channel in channels} == set(Platform.values)
    assert len(channels) == len(setup.channels) == 6
    assert all(channel.mode == Channel.Mode.SANDBOX for channel in channels)


def test_demo_prepare_gives_every_webhook_channel_a_secret(transactional_db):
    demo_prepare(base_url=BASE_URL)
    for channel in Channel.objects.exclude(platform=Platform.BLUESKY):
        assert channel.app_secret
    assert Channel.objects.get(platform=Platform.BLUESKY).access_token


def test_demo_prepare_points_bluesky_at_the_sandbox_pds_of_the_server(transactional_db):
    demo_prepare(base_url=BASE_URL)
    demo_prepare(base_url="http://127.0.0.1:9000")
    bluesky = Channel.objects.get(platform=Platform.BLUESKY)
    assert bluesky.effective_api_base_url == "http://127.0.0.1:9000/sandbox/bluesky"


def test_demo_prepare_creates_an_admin_with_the_printed_password(transactional_db):
    setup = demo_prepare(base_url=BASE_URL)
    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    assert admin.is_superuser and admin.is_staff and admin.is_active
    assert admin.check_password(setup.admin_password)


def test_demo_prepare_gives_the_admin_a_team_serving_every_sandbox_channel(transactional_db):
    setup = demo_prepare(base_url=BASE_URL)
    demo_prepare(base_url=BASE_URL)
    team = Team.objects.get()
    assert set(team.channels.all()) == set(setup.channels)
    assert [agent.user.username for agent in team.members.all()] == [ADMIN_USERNAME]


def test_demo_prepare_again_keeps_the_channels_and_resets_the_password(transactional_db):
    first = demo_prepare(base_url=BASE_URL)
    secrets_before = dict(Channel.objects.values_list("platform", "app_secret"))
    second = demo_prepare(base_url=BASE_URL)
    assert Channel.objects.count() == 6
    assert dict(Channel.objects.values_list("platform", "app_secret")) == secrets_before
    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    assert admin.check_password(second.admin_password)
    assert not admin.check_password(first.admin_password)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),  # noqa: S104
        ("::1", "http://[::1]:8000"),
        ("localhost", "http://localhost:8000"),
    ],
)
def test_local_url_is_reachable_from_this_machine(host, url):
    assert local_url(host=host, port=8000) == url


def test_waiting_for_the_server_ends_when_asked_to_stop():
    class NeverStarted:
        started = False

    stop = threading.Event()
    stop.set()
    assert not server_started_wait(server=NeverStarted(), stop=stop, timeout=60)


def test_demo_prepare_sets_a_default_sla_policy_so_conversations_get_deadlines(transactional_db):
    demo_prepare(base_url=BASE_URL)
    demo_prepare(base_url=BASE_URL)
    policy = Policy.objects.get(is_default=True)
    assert {target.priority for target in policy.targets.all()} == set(Conversation.Priority.values)

    channel = Channel.objects.get(platform=Platform.TELEGRAM)
    message = message_ingest(channel=channel, event=factories.inbound_event(timestamp=timezone.now()))
    clock = Clock.objects.get(conversation_id=message.conversation_id, target="first_response")
    assert clock.deadline is not None


def test_the_demo_agent_resolves_what_it_answered_and_the_customer_left_alone(transactional_db):
    channel = demo_prepare(base_url=BASE_URL).channels[0]
    now = timezone.now()
    conversations = [factories.conversation(channel=channel) for _ in range(3)]
    answered_long_ago, answered_just_now, customer_wrote_last = conversations
    for conversation, agent_ago, customer_ago in [
        (answered_long_ago, 120, 300),
        (answered_just_now, 10, 300),
        (customer_wrote_last, 300, 120),
    ]:
        factories.message(conversation=conversation, created_at=now - timedelta(seconds=customer_ago))
        factories.message(
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            created_at=now - timedelta(seconds=agent_ago),
        )
    assert _answered_conversations(quiet_for_seconds=90) == [answered_long_ago.pk]


def test_demo_reset_deletes_the_embedded_database(tmp_path, settings):
    if connection.vendor != "sqlite":
        with pytest.raises(CommandError, match="SQLite database only"):
            demo_database_delete()
        return
    database = tmp_path / "demo.sqlite3"
    for path in (database, tmp_path / "demo.sqlite3-wal"):
        path.write_text("")
    with patch.dict(connection.settings_dict, {"NAME": str(database)}):
        demo_database_delete()
    assert list(tmp_path.iterdir()) == []
