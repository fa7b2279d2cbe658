"""`add_channel` and `simulate`, and the sandbox Bluesky channel polling the sandbox PDS, run
against the app served by uvicorn."""

import json
import socket
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from inbox.models import Message
from integrations.channels import InvalidChannel, channel_create
from integrations.models import Channel, Platform
from integrations.polling import bluesky_channel_poll
from sandbox.simulator import WEBHOOK_PLATFORMS
from tests import factories

APP_SECRET = "app-secret-5f1c9a"
VERIFY_TOKEN = "verify-token-2b7e"
ACCESS_TOKEN = "access-token-88d0c4"


def _add_channel(*args: str) -> str:
    out = StringIO()
    call_command("add_channel", *args, stdout=out)
    return out.getvalue()


def _simulate(*args: str) -> str:
    out = StringIO()
    call_command("simulate", *args, stdout=out)
    return out.getvalue()


# add_channel


def test_add_channel_prints_the_channel_and_which_secrets_are_set(db, settings):
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    out = _add_channel(
        *("--platform", "facebook", "--account-id", "104857362918473", "--name", "Acme Store"),
        *("--app-secret", APP_SECRET, "--verify-token", VERIFY_TOKEN),
    )
    channel = Channel.objects.get()
    assert json.loads(out) == {
        "id": channel.pk,
        "platform": "facebook",
        "name": "Acme Store",
        "account_id": "104857362918473",
        "mode": "live",
        "api_base_url": "https://graph.facebook.com/v21.0",
        "webhook_url": "https://help.example.com/webhooks/facebook/",
        "secrets_set": {"app_secret": True, "verify_token": True, "access_token": False},
    }


def test_add_channel_never_prints_secret_values(db):
    out = _add_channel(
        *("--platform", "x", "--account-id", "1517369840123456512", "--name", "Acme"),
        *("--app-secret", APP_SECRET, "--access-token", ACCESS_TOKEN),
    )
    assert APP_SECRET not in out
    assert ACCESS_TOKEN not in out


def test_add_channel_stores_secrets_encrypted(db):
    _add_channel(
        *("--platform", "facebook", "--account-id", "1", "--name", "Acme"),
        *("--app-secret", APP_SECRET, "--verify-token", VERIFY_TOKEN),
        *("--access-token", ACCESS_TOKEN),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_secret, verify_token, access_token FROM integrations_channel")
        (raw,) = cursor.fetchall()
    for plaintext, stored in zip((APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN), raw, strict=True):
        assert stored and plaintext not in stored
    channel = Channel.objects.get()
    assert (channel.app_secret, channel.verify_token, channel.access_token) == (
        APP_SECRET,
        VERIFY_TOKEN,
        ACCESS_TOKEN,
    )


def test_add_channel_gives_a_telegram_bot_its_own_webhook_url(db, settings):
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    out = _add_channel(
        *("--platform", "telegram", "--account-id", "7012345678", "--name", "Bot"),
        *("--app-secret", "acme-prod_7f3K9pQ2xZvL0wR8"),
    )
    printed = json.loads(out)
    assert printed["webhook_url"] == f"https://help.example.com/webhooks/telegram/{printed['id']}/"


def test_add_channel_sandbox_bluesky_polls_the_sandbox_pds(db, settings):
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    out = _add_channel(
        *("--platform", "bluesky", "--account-id", "did:plc:7kq2mzx4vw3nb5td6hryaj2e"),
        *("--name", "Acme", "--access-token", "abcd-efgh-ijkl-mnop", "--sandbox"),
    )
    printed = json.loads(out)
    assert printed["webhook_url"] is None
    assert printed["mode"] == "sandbox"
    assert printed["api_base_url"] == "https://help.example.com/sandbox/bluesky"


BAD_INPUTS = {
    "unknown platform": ("--platform", "myspace", "--account-id", "1", "--name", "A"),
    "no app secret": ("--platform", "instagram", "--account-id", "1", "--name", "A"),
    "telegram secret with a space": (
        *("--platform", "telegram", "--account-id", "1", "--name", "A"),
        *("--app-secret", "has space"),
    ),
    "telegram secret too long": (
        *("--platform", "telegram", "--account-id", "1", "--name", "A"),
        *("--app-secret", "a" * 257),
    ),
    "bluesky without app password": (
        *("--platform", "bluesky", "--account-id", "did:plc:abc", "--name", "A"),
    ),
    "bluesky account that is not a DID": (
        *("--platform", "bluesky", "--account-id", "acme.bsky.social", "--name", "A"),
        *("--access-token", "abcd-efgh-ijkl-mnop"),
    ),
    "invalid api base url": (
        *("--platform", "x", "--account-id", "1", "--name", "A", "--app-secret", "s"),
        *("--api-base-url", "not a url"),
    ),
    "non-http api base url": (
        *("--platform", "x", "--account-id", "1", "--name", "A", "--app-secret", "s"),
        *("--api-base-url", "ftp://api.example.com"),
    ),
    "blank name": ("--platform", "x", "--account-id", "1", "--name", "  ", "--app-secret", "s"),
    "blank account id": (
        "--platform",
        "x",
        "--account-id",
        " ",
        "--name",
        "A",
        "--app-secret",
        "s",
    ),
}


@pytest.mark.parametrize("args", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_add_channel_refuses_bad_input_and_stores_nothing(db, args):
    with pytest.raises(CommandError):
        _add_channel(*args)
    assert not Channel.objects.exists()


def test_add_channel_refuses_a_duplicate_account(db):
    args = ("--platform", "linkedin", "--account-id", "urn:li:organization:1", "--name", "A")
    _add_channel(*args, "--app-secret", APP_SECRET)
    with pytest.raises(CommandError, match="already exists"):
        _add_channel(*args, "--app-secret", "another")
    assert Channel.objects.count() == 1


def test_channel_create_refuses_an_unknown_platform(db):
    with pytest.raises(InvalidChannel, match="Unknown platform"):
        channel_create(platform="myspace", account_id="1", name="A", app_secret="s")


# simulate


@pytest.fixture
def webhook_channels(transactional_db) -> list[Channel]:
    return [
        factories.channel(platform=platform, account_id=f"{platform}-account")
        for platform in WEBHOOK_PLATFORMS
    ]


def test_simulate_stores_messages_from_every_webhook_platform(asgi_server, webhook_channels):
    out = _simulate(
        *("--base-url", asgi_server, "--count", "15", "--rate", "1000", "--seed", "1"),
    )
    assert "Sent 15 deliveries: HTTP 200 × 15." in out
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND)
    assert inbound.count() == 15
    assert set(inbound.values_list("channel__platform", flat=True)) == set(WEBHOOK_PLATFORMS)


def test_simulate_posts_only_to_the_platforms_asked_for(asgi_server, webhook_channels):
    out = _simulate("--base-url", asgi_server, "--count", "4", "--rate", "1000", "--platforms", "x")
    assert "x: 4" in out
    assert set(Message.objects.values_list("channel__platform", flat=True)) == {Platform.X}


def test_simulate_skips_bluesky_with_a_note(asgi_server, webhook_channels):
    out = _simulate(
        *("--base-url", asgi_server, "--count", "2", "--rate", "1000"),
        *("--platforms", "telegram,bluesky"),
    )
    assert "Skipping bluesky" in out
    assert "telegram: 2" in out


def test_simulate_refuses_bluesky_alone(db):
    with pytest.raises(CommandError, match="Bluesky has no webhooks"):
        _simulate("--base-url", "http://127.0.0.1:9", "--platforms", "bluesky")


def test_simulate_refuses_an_unknown_platform(db):
    with pytest.raises(CommandError, match="myspace"):
        _simulate("--base-url", "http://127.0.0.1:9", "--platforms", "facebook,myspace")


def test_simulate_refuses_a_platform_without_a_channel(db):
    factories.channel(platform=Platform.FACEBOOK)
    with pytest.raises(CommandError, match="No active channel with a secret for x"):
        _simulate("--base-url", "http://127.0.0.1:9", "--platforms", "facebook,x")


def test_simulate_refuses_when_no_channel_exists(db):
    with pytest.raises(CommandError, match="No active webhook channel"):
        _simulate("--base-url", "http://127.0.0.1:9")


def test_simulate_reports_an_unreachable_server(db):
    factories.channel(platform=Platform.FACEBOOK)
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(CommandError, match="Cannot reach"):
        _simulate("--base-url", f"http://127.0.0.1:{port}", "--count", "1")


# The sandbox Bluesky channel and the sandbox PDS


def test_sandbox_bluesky_channel_polls_mentions_from_the_sandbox_pds(asgi_server, settings):
    settings.PUBLIC_BASE_URL = asgi_server
    channel = channel_create(
        platform=Platform.BLUESKY,
        account_id="did:plc:7kq2mzx4vw3nb5td6hryaj2e",
        name="Acme",
        access_token="abcd-efgh-ijkl-mnop",
        sandbox=True,
    )
    bluesky_channel_poll(channel_id=channel.pk)
    stored = Message.objects.filter(channel=channel)
    assert stored.exists()
    assert set(stored.values_list("conversation__source", flat=True)) <= {"mention", "comment"}
    channel.refresh_from_db()
    assert channel.poll_state["chat_cursor"].isdigit()
