"""The simulator's deliveries and the sandbox Bluesky PDS speak the platforms' own formats:
the adapters verify and parse them like real traffic."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from integrations.models import Platform
from integrations.platforms import adapter_for, bluesky
from integrations.platforms.base import InboundMessage
from sandbox import bluesky as sandbox_bluesky
from sandbox.simulator import ASCII_BODY_PLATFORMS, WEBHOOK_PLATFORMS, Simulator
from tests import factories

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
BRAND = sandbox_bluesky.Account(did="did:plc:7kq2mzx4vw3nb5td6hryaj2e", handle="acme.bsky.social")
XRPC = "/sandbox/bluesky/xrpc"


def _channel(platform: str):
    account_id = "urn:li:organization:81234567" if platform == Platform.LINKEDIN else None
    return factories.channel(
        platform=platform, **({"account_id": account_id} if account_id else {})
    )


def _inbound(channel, delivery) -> list[InboundMessage]:
    # Telegram names the channel by URL; the other deliveries name their account inside.
    account_id = channel.account_id if channel.platform == Platform.TELEGRAM else ""
    events = adapter_for(channel.platform).parse(json.loads(delivery.body), account_id=account_id)
    return [event for event in events if isinstance(event, InboundMessage)]


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS)
def test_deliveries_verify_with_the_channel_secret_only(db, platform):
    channel = _channel(platform)
    adapter = adapter_for(platform)
    simulator = Simulator(seed=1)
    for _ in range(20):
        delivery = simulator.delivery(channel, now=NOW)
        assert adapter.verify(
            body=delivery.body, headers=delivery.headers, secret=channel.app_secret
        )
        assert not adapter.verify(
            body=delivery.body, headers=delivery.headers, secret="other-secret"
        )


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS)
def test_each_delivery_parses_into_a_customer_message(db, platform):
    channel = _channel(platform)
    simulator = Simulator(seed=2)
    for _ in range(30):
        delivery = simulator.delivery(channel, now=NOW)
        (message,) = _inbound(channel, delivery)
        assert message.text or message.attachments
        assert message.timestamp.replace(microsecond=0) == NOW
        assert delivery.path == channel.webhook_path()


@pytest.mark.parametrize("platform", sorted(set(WEBHOOK_PLATFORMS) - {Platform.TELEGRAM}))
def test_app_level_deliveries_name_the_channel_account(db, platform):
    channel = _channel(platform)
    delivery = Simulator(seed=3).delivery(channel, now=NOW)
    assert adapter_for(platform).account_ids(json.loads(delivery.body)) == {channel.account_id}


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS)
def test_deliveries_are_compact_json(db, platform):
    channel = _channel(platform)
    delivery = Simulator(seed=4).delivery(channel, now=NOW)
    compact = json.dumps(
        json.loads(delivery.body),
        separators=(",", ":"),
        ensure_ascii=platform in ASCII_BODY_PLATFORMS,
    )
    assert delivery.body == compact.encode()
    assert delivery.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS)
def test_follow_ups_continue_a_thread_from_the_same_customer(db, platform):
    channel = _channel(platform)
    simulator = Simulator(seed=5)
    messages = [
        message for _ in range(40) for message in _inbound(channel, simulator.delivery(channel))
    ]
    per_thread = Counter((m.sender.external_id, m.thread_key) for m in messages)
    assert max(per_thread.values()) >= 2
    assert len({m.sender.external_id for m in messages}) >= 4


def test_platform_message_ids_are_unique_across_simulators(db):
    channels = [_channel(platform) for platform in WEBHOOK_PLATFORMS]
    ids = [
        message.platform_message_id
        for seed in (6, 6)  # the same seed twice: ids still differ, so a rerun adds messages
        for simulator in [Simulator(seed=seed)]
        for _ in range(12)
        for channel in channels
        for message in _inbound(channel, simulator.delivery(channel))
    ]
    assert len(ids) == len(set(ids)) == 2 * 12 * len(channels)


def test_the_same_seed_repeats_the_same_customers_and_texts(db):
    channel = _channel(Platform.TELEGRAM)

    def texts(seed: int) -> list[tuple[str, str]]:
        simulator = Simulator(seed=seed)
        return [
            (m.sender.external_id, m.text)
            for _ in range(10)
            for m in _inbound(channel, simulator.delivery(channel))
        ]

    assert texts(7) == texts(7)
    assert texts(7) != texts(8)


def test_customers_write_in_several_languages(db):
    channel = _channel(Platform.TELEGRAM)
    simulator = Simulator(seed=9)
    payloads = [json.loads(simulator.delivery(channel).body) for _ in range(40)]
    languages = {payload["message"]["from"]["language_code"] for payload in payloads}
    assert len(languages) >= 4


# The sandbox Bluesky PDS


def _poll_chat(cursor: str, *, now: datetime) -> tuple[str, list[dict]]:
    """Page through getLog from `cursor` as the poller does; return the new cursor and logs."""
    logs: list[dict] = []
    while True:
        page = sandbox_bluesky.chat_log_page(cursor=cursor, brand=BRAND, now=now)
        logs.extend(page["logs"])
        if page["cursor"] == cursor:
            return cursor, logs
        cursor = page["cursor"]


def test_chat_log_without_cursor_gives_only_the_current_cursor():
    page = sandbox_bluesky.chat_log_page(cursor=None, brand=BRAND, now=NOW)
    assert page["logs"] == []
    assert page["cursor"].isdigit()


def test_chat_log_polled_with_its_cursor_yields_each_message_once():
    cursor = sandbox_bluesky.chat_log_page(cursor=None, brand=BRAND, now=NOW)["cursor"]
    seen: list[dict] = []
    # Includes a gap long enough for several pages, and a repeated poll at the same time.
    for seconds in (70, 70, 100, 4000):
        cursor, logs = _poll_chat(cursor, now=NOW + timedelta(seconds=seconds))
        seen.extend(logs)
    ids = [log["message"]["id"] for log in seen]
    revs = [log["rev"] for log in seen]
    assert len(ids) == len(set(ids)) == 4000 // 20
    assert revs == sorted(revs)


def test_chat_log_pages_parse_into_direct_messages_in_threads():
    cursor = sandbox_bluesky.chat_log_page(cursor=None, brand=BRAND, now=NOW)["cursor"]
    page = sandbox_bluesky.chat_log_page(
        cursor=cursor, brand=BRAND, now=NOW + timedelta(seconds=600)
    )
    events = bluesky.parse({"stream": "chat", "page": page}, account_id=BRAND.did)
    assert events and all(isinstance(e, InboundMessage) and e.source == "dm" for e in events)
    per_convo = Counter((e.sender.external_id, e.external_thread_id) for e in events)
    assert max(per_convo.values()) >= 2


def test_notifications_page_backwards_to_the_oldest_retained_once():
    uris: list[str] = []
    indexed: list[str] = []
    cursor = None
    while True:
        page = sandbox_bluesky.notifications_page(
            cursor=cursor, limit=7, reasons=set(), brand=BRAND, now=NOW
        )
        uris.extend(n["uri"] for n in page["notifications"])
        indexed.extend(n["indexedAt"] for n in page["notifications"])
        cursor = page.get("cursor")
        if cursor is None:
            break
    assert len(uris) == len(set(uris)) == sandbox_bluesky.NOTIFICATIONS_RETAINED
    assert indexed == sorted(indexed, reverse=True)


def test_newer_notifications_appear_on_top_of_the_first_page():
    before = sandbox_bluesky.notifications_page(
        cursor=None, limit=50, reasons=set(), brand=BRAND, now=NOW
    )
    after = sandbox_bluesky.notifications_page(
        cursor=None, limit=50, reasons=set(), brand=BRAND, now=NOW + timedelta(seconds=90)
    )
    old = {n["uri"] for n in before["notifications"]}
    new = [n["uri"] for n in after["notifications"] if n["uri"] not in old]
    assert new == [n["uri"] for n in after["notifications"][:2]]


def test_notifications_parse_into_mentions_and_replies_in_threads():
    page = sandbox_bluesky.notifications_page(
        cursor=None, limit=50, reasons={"mention", "reply", "quote"}, brand=BRAND, now=NOW
    )
    events = bluesky.parse({"stream": "notifications", "page": page}, account_id=BRAND.did)
    assert all(isinstance(e, InboundMessage) for e in events)
    assert {e.source for e in events} == {"mention", "comment"}
    per_thread = Counter((e.sender.external_id, e.thread_key) for e in events)
    assert max(per_thread.values()) >= 2


def test_notifications_keep_only_the_reasons_asked_for():
    page = sandbox_bluesky.notifications_page(
        cursor=None, limit=50, reasons={"reply"}, brand=BRAND, now=NOW
    )
    assert page["notifications"]
    assert {n["reason"] for n in page["notifications"]} == {"reply"}


def _session(client) -> dict:
    response = client.post(
        f"{XRPC}/com.atproto.server.createSession",
        data={"identifier": BRAND.did, "password": "abcd-efgh-ijkl-mnop"},
        content_type="application/json",
    )
    assert response.status_code == 200
    return response.json()


def test_create_session_returns_tokens_for_the_account(client):
    session = _session(client)
    assert session["did"] == BRAND.did
    assert session["accessJwt"] and session["refreshJwt"] and session["handle"]


def test_get_log_answers_401_without_a_bearer_token(client):
    response = client.get(
        f"{XRPC}/chat.bsky.convo.getLog", headers={"atproto-proxy": bluesky.CHAT_PROXY}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "AuthMissing"


def test_list_notifications_answers_401_with_a_token_it_did_not_issue(client):
    response = client.get(
        f"{XRPC}/app.bsky.notification.listNotifications",
        headers={"authorization": "Bearer made-up"},
    )
    assert response.status_code == 401


def test_get_log_answers_with_a_page_to_a_session(client):
    token = _session(client)["accessJwt"]
    response = client.get(
        f"{XRPC}/chat.bsky.convo.getLog",
        {"cursor": "0"},
        headers={"authorization": f"Bearer {token}", "atproto-proxy": bluesky.CHAT_PROXY},
    )
    assert response.status_code == 200
    assert len(response.json()["logs"]) == sandbox_bluesky.LOG_PAGE_SIZE


def test_list_notifications_answers_with_a_page_to_a_session(client):
    token = _session(client)["accessJwt"]
    response = client.get(
        f"{XRPC}/app.bsky.notification.listNotifications",
        {"limit": "5", "reasons": ["mention", "reply"]},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert len(response.json()["notifications"]) == 5


def test_unknown_xrpc_method_answers_404(client):
    response = client.get(f"{XRPC}/app.bsky.feed.getTimeline")
    assert response.status_code == 404
    assert response.json()["error"] == "MethodNotImplemented"


def test_xrpc_method_called_with_the_wrong_http_method_is_refused(client):
    response = client.get(f"{XRPC}/com.atproto.server.createSession")
    assert response.status_code == 405
