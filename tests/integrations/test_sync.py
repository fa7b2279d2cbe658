"""Multi-account sync: accounts are asked concurrently, merged by platform conversation id
and sorted by activity; a broken or slow account is reported without holding the others;
backfill goes through the idempotent ingest."""

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import responses
from django.core.cache import cache
from django.core.management import call_command

from inbox.models import Message
from integrations.models import Platform
from integrations.sending import _sessions
from integrations.sync import channel_backfill, conversations_overview, last_syncs
from tests import factories
from tests.integrations.platform_fixtures import load_example

pytestmark = pytest.mark.django_db
SINCE = datetime(2024, 5, 1, tzinfo=UTC)
PDS = "https://pds.test"


@pytest.fixture(autouse=True)
def _fresh():
    cache.clear()
    _sessions.clear()


def bluesky_channel(**fields):
    return factories.channel(
        platform=Platform.BLUESKY,
        account_id="did:plc:7kq2mzx4vw3nb5td6hryaj2e",
        access_token="app-pass",
        api_base_url=PDS,
        **fields,
    )


def mock_bluesky_login(mock):
    mock.post(f"{PDS}/xrpc/com.atproto.server.createSession", json={"accessJwt": "jwt-1"})


def test_overview_merges_accounts_and_reports_the_failed_one():
    good = bluesky_channel()
    broken = factories.channel(platform=Platform.X, api_base_url="https://x.test")
    telegram = factories.channel(platform=Platform.TELEGRAM)
    with responses.RequestsMock() as mock:
        mock_bluesky_login(mock)
        mock.get(
            f"{PDS}/xrpc/chat.bsky.convo.listConvos", json=load_example("bluesky", "listconvos")
        )
        mock.get("https://x.test/2/dm_events", status=429, headers={"Retry-After": "900"})
        overview = conversations_overview(channels=[good, broken, telegram], since=SINCE)
    assert [c.platform_conversation_id for c in overview.conversations] == ["3kvgd2hqfz52s"]
    assert overview.accounts_queried == [good.pk, broken.pk, telegram.pk]
    [failure] = overview.accounts_failed
    assert (failure.channel_id, failure.code, failure.retry_after) == (
        broken.pk,
        "429",
        pytest.approx(900, abs=1),
    )
    assert overview.accounts_unsupported == [telegram.pk]
    statuses = {
        row["channel_id"]: row["status"] for row in last_syncs(channels=[good, broken, telegram])
    }
    assert statuses == {good.pk: "ok", broken.pk: "failed", telegram.pk: "unsupported"}


def test_a_slow_account_times_out_without_holding_the_others():
    fast, slow = (
        bluesky_channel(),
        factories.channel(platform=Platform.X, api_base_url="https://x.test"),
    )
    release = threading.Event()

    def blocked(request):
        release.wait(5)  # bounded: released as soon as the assertion is made
        return (200, {}, '{"data": []}')

    # The blocked call counts as made only once it returns, after the mock has closed.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock_bluesky_login(mock)
        mock.get(
            f"{PDS}/xrpc/chat.bsky.convo.listConvos", json=load_example("bluesky", "listconvos")
        )
        mock.add_callback(responses.GET, "https://x.test/2/dm_events", callback=blocked)
        try:
            overview = conversations_overview(channels=[fast, slow], since=SINCE, timeout=0.5)
        finally:
            release.set()
    assert [f.code for f in overview.accounts_failed] == ["timeout"]
    assert len(overview.conversations) == 1


def test_conversations_are_deduplicated_by_platform_id_and_sorted_by_activity():
    a, b = bluesky_channel(), factories.channel(platform=Platform.X, api_base_url="https://x.test")
    events = {
        "data": [
            {
                "id": "3",
                "text": "new",
                "event_type": "MessageCreate",
                "dm_conversation_id": "9-1",
                "created_at": "2024-06-02T10:00:00.000Z",
                "sender_id": "9",
            },
            {
                "id": "2",
                "text": "old",
                "event_type": "MessageCreate",
                "dm_conversation_id": "9-1",
                "created_at": "2024-05-20T10:00:00.000Z",
                "sender_id": "9",
            },
        ],
        "meta": {},
    }
    with responses.RequestsMock() as mock:
        mock_bluesky_login(mock)
        mock.get(
            f"{PDS}/xrpc/chat.bsky.convo.listConvos", json=load_example("bluesky", "listconvos")
        )
        mock.get("https://x.test/2/dm_events", json=events)
        overview = conversations_overview(channels=[a, b], since=SINCE)
    assert [(c.platform, c.snippet) for c in overview.conversations] == [
        ("x", "new"),
        ("bluesky", "Screenshot here 👇"),
    ]


def test_backfill_ingests_history_once():
    channel = bluesky_channel()
    with responses.RequestsMock() as mock:
        mock_bluesky_login(mock)
        mock.get(
            f"{PDS}/xrpc/chat.bsky.convo.listConvos",
            json={**load_example("bluesky", "listconvos"), "cursor": None},
        )
        mock.get(
            f"{PDS}/xrpc/chat.bsky.convo.getMessages",
            json={**load_example("bluesky", "getmessages"), "cursor": None},
        )
        first = channel_backfill(channel=channel, since=SINCE)
        again = channel_backfill(channel=channel, since=SINCE)
    assert (first.conversations, first.messages_ingested, again.messages_ingested) == (1, 2, 0)
    texts = list(Message.objects.order_by("created_at").values_list("content", flat=True))
    assert texts == ["Hi! My discount code SPRING24 is rejected at checkout.", "Screenshot here 👇"]


def test_sync_channels_command_backfills_and_reports(capsys):
    channel = bluesky_channel()
    with responses.RequestsMock() as mock:
        mock_bluesky_login(mock)
        mock.get(f"{PDS}/xrpc/chat.bsky.convo.listConvos", json={"convos": []})
        out = StringIO()
        call_command(
            "sync_channels",
            "--since",
            (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "--channel",
            str(channel.pk),
            "404",
            stdout=out,
        )
    assert f"{channel.name}: 0 conversations, 0 new messages" in out.getvalue()
