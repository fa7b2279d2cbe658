"""`manage.py demo`'s preparation: an admin to log in with, one sandbox channel per platform
and a team serving them, whatever state an earlier run left. Serving is not started here."""

import threading

import pytest
from django.contrib.auth import get_user_model

from helpdesk.management.commands.demo import (
    ADMIN_USERNAME,
    demo_prepare,
    local_url,
    server_started_wait,
)
from integrations.models import Channel, Platform
from routing.models import Team

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
