"""Each platform's send path: the request matches the platform's documented shape (the
example requests in tests/fixtures/platforms), the messaging rules are applied before any
call, and the id returned is the one the webhook parser stores for the same message."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from integrations.http import PlatformClient
from integrations.outbound import Account, OutboundAttachment, OutboundReply, ReplyRefused
from integrations.platforms import adapter_for, bluesky
from integrations.ratelimit import AccountBudget
from tests.integrations.platform_fixtures import load_example

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BASE = "https://api.example.test"


def reply(platform: str, **fields) -> OutboundReply:
    defaults = {
        "platform": platform,
        "account_id": "acct",
        "source": "dm",
        "private": False,
        "text": "Hello",
        "recipient_id": "cust-1",
        "thread_id": "cust-1",
        "customer_wrote_at": NOW - timedelta(hours=1),
        "token": "tok-1",
        "queued_at": NOW,
    }
    return OutboundReply(**{**defaults, **fields})


def send(out: OutboundReply, *, credential: str = "secret-token") -> list[str]:
    """Send every part of `out` through a real client; return the platform ids."""
    adapter = adapter_for(out.platform)
    adapter.reply_check(out, now=NOW)
    client = PlatformClient(
        platform=out.platform,
        account_id=out.account_id,
        dialect=adapter.DIALECT,
        secrets=[credential],
        budget=AccountBudget(account_key="a", allowance=None, prefix=f"t-{uuid.uuid4().hex}"),
        session=requests.Session(),
        sleep=lambda s: None,
    )
    account = Account(
        channel_id=1,
        platform=out.platform,
        account_id=out.account_id,
        credential=credential,
        base_url=BASE,
    )
    return [
        adapter.part_send(client=client, account=account, reply=out, part=part, now=NOW)
        for part in adapter.reply_parts(out)
    ]


def sent_json(index: int = -1) -> dict:
    return json.loads(responses.calls[index].request.body)


# Messenger and Instagram: the 24-hour window and the human agent tag


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(hours=23), {"messaging_type": "RESPONSE"}),
        (timedelta(days=3), {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}),
    ],
)
@responses.activate
def test_meta_dm_uses_the_messaging_type_the_window_allows(platform, age, expected):
    responses.post(f"{BASE}/me/messages", json={"recipient_id": "cust-1", "message_id": "m_1"})
    assert send(reply(platform, customer_wrote_at=NOW - age)) == ["m_1"]
    body = sent_json()
    assert body == {
        "recipient": {"id": "cust-1"},
        **expected,
        "message": {"text": "Hello", "metadata": "tok-1"},
    }
    assert responses.calls[0].request.headers["Authorization"] == "Bearer secret-token"


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
@responses.activate
def test_meta_dm_beyond_seven_days_is_refused_before_any_call(platform):
    with pytest.raises(ReplyRefused, match="7 days"):
        send(reply(platform, customer_wrote_at=NOW - timedelta(days=8)))
    assert len(responses.calls) == 0


@responses.activate
def test_messenger_sends_text_then_each_attachment_as_its_own_message():
    responses.post(f"{BASE}/me/messages", json={"message_id": "m_1"})
    responses.post(f"{BASE}/me/messages", json={"message_id": "m_2"})
    ids = send(
        reply("facebook", attachments=(OutboundAttachment("image", "https://cdn.example/r.jpg"),))
    )
    assert ids == ["m_1", "m_2"]
    assert sent_json(1)["message"] == {
        "attachment": {
            "type": "image",
            "payload": {"url": "https://cdn.example/r.jpg", "is_reusable": True},
        }
    }


@responses.activate
def test_facebook_comment_reply_and_private_reply():
    responses.post(f"{BASE}/111_222/comments", json={"id": "111_333"})
    assert send(
        reply("facebook", source="comment", thread_id="111_222", reply_to_id="111_222")
    ) == ["111_333"]
    assert sent_json() == {"message": "Hello"}
    responses.post(f"{BASE}/me/messages", json={"message_id": "m_9"})
    private = reply(
        "facebook",
        source="comment",
        private=True,
        reply_to_id="111_222",
        reply_to_at=NOW - timedelta(days=1),
    )
    assert send(private) == ["m_9"]
    assert sent_json() == {"recipient": {"comment_id": "111_222"}, "message": {"text": "Hello"}}


def test_a_private_reply_after_seven_days_is_refused():
    old = reply(
        "instagram",
        source="comment",
        private=True,
        reply_to_id="c1",
        reply_to_at=NOW - timedelta(days=8),
    )
    with pytest.raises(ReplyRefused, match="7 days"):
        adapter_for("instagram").reply_check(old, now=NOW)


@responses.activate
def test_instagram_comment_reply_goes_to_replies():
    responses.post(f"{BASE}/178_1/replies", json={"id": "178_2"})
    assert send(reply("instagram", source="comment", thread_id="178_1", reply_to_id="178_1")) == [
        "178_2"
    ]
    assert sent_json() == {"message": "Hello"}


def test_over_long_messenger_text_is_refused_with_the_limit_named():
    with pytest.raises(ReplyRefused, match="2000"):
        adapter_for("facebook").reply_check(reply("facebook", text="x" * 2001), now=NOW)


# X


@responses.activate
def test_x_dm_and_reply_post():
    responses.post(
        f"{BASE}/2/dm_conversations/with/cust-1/messages",
        status=201,
        json={"data": {"dm_conversation_id": "1-2", "dm_event_id": "1582838"}},
    )
    assert send(reply("x")) == ["1582838"]
    assert sent_json() == {"text": "Hello"}
    responses.post(f"{BASE}/2/tweets", status=201, json={"data": {"id": "1800", "text": "Hello"}})
    assert send(reply("x", source="mention", thread_id="1799", reply_to_id="1799")) == ["1800"]
    assert sent_json() == {"text": "Hello", "reply": {"in_reply_to_tweet_id": "1799"}}


def test_x_post_longer_than_280_is_refused():
    with pytest.raises(ReplyRefused, match="280"):
        adapter_for("x").reply_check(reply("x", source="mention", text="y" * 281), now=NOW)


# LinkedIn


@responses.activate
def test_linkedin_comment_reply_matches_the_documented_request():
    example = load_example("linkedin", "reply_comment_request")
    parent = example["parentComment"]
    responses.post(
        f"{BASE}/rest/socialActions/{requests.utils.quote(parent, safe='')}/comments",
        status=201,
        json={"commentUrn": "urn:li:comment:(urn:li:activity:7203456790123456789,1)"},
    )
    out = reply(
        "linkedin",
        account_id=example["actor"],
        source="comment",
        text=example["message"]["text"],
        post_id=example["object"],
        thread_id=parent,
        reply_to_id=parent,
    )
    assert send(out) == ["urn:li:comment:(urn:li:activity:7203456790123456789,1)"]
    assert sent_json() == example
    assert responses.calls[0].request.headers["X-Restli-Protocol-Version"] == "2.0.0"


# Bluesky


@responses.activate
def test_bluesky_chat_message_matches_the_documented_request():
    example = load_example("bluesky", "sendmessage_request")
    responses.post(f"{BASE}/xrpc/chat.bsky.convo.sendMessage", json={"id": "3kz", "rev": "1"})
    out = reply("bluesky", thread_id=example["convoId"], text=example["message"]["text"])
    assert send(out) == [f"{example['convoId']}:3kz"]
    assert sent_json() == example
    assert responses.calls[0].request.headers["atproto-proxy"] == bluesky.CHAT_PROXY


@responses.activate
def test_bluesky_reply_post_answers_under_the_thread_root():
    example = load_example("bluesky", "reply_post_request")
    parent = example["record"]["reply"]["parent"]
    responses.get(
        f"{BASE}/xrpc/app.bsky.feed.getPosts",
        json={"posts": [{**parent, "record": {"text": "help"}}]},
    )
    responses.post(
        f"{BASE}/xrpc/com.atproto.repo.createRecord",
        json={"uri": "at://did:plc:brand/app.bsky.feed.post/3l", "cid": "c"},
    )
    out = reply(
        "bluesky",
        account_id=example["repo"],
        source="mention",
        thread_id=parent["uri"],
        reply_to_id=parent["uri"],
        text=example["record"]["text"],
    )
    assert send(out) == ["at://did:plc:brand/app.bsky.feed.post/3l"]
    body = sent_json()
    assert {key: body[key] for key in ("repo", "collection")} == {
        "repo": example["repo"],
        "collection": example["collection"],
    }
    assert body["record"]["reply"] == example["record"]["reply"]
    assert body["record"]["text"] == example["record"]["text"]
    assert len(body["rkey"]) == 13  # a TID fixed by the reply, so a retry can check for it


@responses.activate
def test_bluesky_facets_mark_links_and_mentions_at_byte_offsets():
    responses.get(f"{BASE}/xrpc/com.atproto.identity.resolveHandle", json={"did": "did:plc:dana"})
    responses.post(f"{BASE}/xrpc/chat.bsky.convo.sendMessage", json={"id": "1"})
    send(
        reply(
            "bluesky", thread_id="c1", text="Hé @dana.bsky.social, see https://acme.example/help."
        )
    )
    facets = sent_json()["message"]["facets"]
    assert facets == [
        {
            "index": {"byteStart": 4, "byteEnd": 21},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:dana"}],
        },
        {
            "index": {"byteStart": 27, "byteEnd": 52},
            "features": [
                {"$type": "app.bsky.richtext.facet#link", "uri": "https://acme.example/help"}
            ],
        },
    ]


def test_bluesky_posts_are_limited_to_300_graphemes_not_code_points():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one grapheme, five code points
    adapter_for("bluesky").reply_check(
        reply("bluesky", source="mention", text=family * 300), now=NOW
    )
    with pytest.raises(ReplyRefused, match="300 graphemes"):
        adapter_for("bluesky").reply_check(
            reply("bluesky", source="mention", text="e\u0301" * 301), now=NOW
        )


# Telegram


@responses.activate
def test_telegram_group_reply_matches_the_documented_request():
    example = load_example("telegram", "sendmessage_reply_request")
    responses.post(
        f"{BASE}/botsecret-token/sendMessage", json={"ok": True, "result": {"message_id": 1043}}
    )
    out = reply(
        "telegram",
        source="mention",
        thread_id=str(example["chat_id"]),
        thread_key=str(example["chat_id"]),
        reply_to_id=f"{example['chat_id']}:{example['reply_parameters']['message_id']}",
        text=example["text"],
    )
    assert send(out) == [f"{example['chat_id']}:1043"]
    assert sent_json() == example


@responses.activate
def test_telegram_splits_text_longer_than_4096_characters():
    for message_id in (1, 2, 3):
        responses.post(
            f"{BASE}/botsecret-token/sendMessage",
            json={"ok": True, "result": {"message_id": message_id}},
        )
    text = ("word " * 2000).strip()  # 9999 characters
    ids = send(reply("telegram", thread_id="42", text=text))
    sent = [json.loads(call.request.body)["text"] for call in responses.calls]
    assert ids == ["42:1", "42:2", "42:3"]
    assert all(len(piece) <= 4096 for piece in sent) and " ".join(sent) == text
