import copy
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from integrations.platforms import meta
from integrations.platforms.base import (
    Attachment,
    HandshakeFailed,
    Ignored,
    InboundMessage,
    MalformedPayload,
    MessageDeleted,
    MessageEdited,
    OutboundEcho,
    Sender,
    StatusReceipt,
)
from tests.integrations.platform_fixtures import example_names, load_example, load_vectors

VECTORS = load_vectors("meta")
SECRET = VECTORS[0]["secret"]
PAGE_ID = "104857362918473"
USER_ID = "7412983650124587"
IG_ACCOUNT_ID = "17841400987654321"


def parse_one(payload: dict):
    events = meta.parse(payload)
    assert len(events) == 1
    return events[0]


def messaging_payload(**event_fields) -> dict:
    """Return messenger_text.json with its one messaging event's fields replaced."""
    payload = load_example("meta", "messenger_text")
    event = payload["entry"][0]["messaging"][0]
    event.pop("message")
    event.update(event_fields)
    return payload


def feed_payload(**value_fields) -> dict:
    """Return page_comment_add.json with its feed change's value fields replaced (None removes)."""
    payload = load_example("meta", "page_comment_add")
    value = payload["entry"][0]["changes"][0]["value"]
    for field, new in value_fields.items():
        value.pop(field, None)
        if new is not None:
            value[field] = new
    return payload


# Signatures


@pytest.mark.parametrize("vector", VECTORS, ids=lambda vector: vector["name"])
def test_signature_vectors(vector):
    headers = {"X-Hub-Signature-256": vector["header"]}
    body = vector["body"].encode()
    assert meta.verify(body=body, headers=headers, secret=vector["secret"]) is vector["valid"]


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if v["valid"]], ids=lambda vector: vector["name"]
)
def test_signature_headers_match_the_vectors(vector):
    headers = meta.signature_headers(body=vector["body"].encode(), secret=vector["secret"])
    assert headers == {"X-Hub-Signature-256": vector["header"]}


def test_signature_header_name_is_case_insensitive():
    vector = VECTORS[0]
    headers = {"x-hub-signature-256": vector["header"]}
    assert meta.verify(body=vector["body"].encode(), headers=headers, secret=SECRET)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": "sha256="},
        {"X-Hub-Signature-256": "sha256=not-hex-at-all"},
        {"X-Hub-Signature-256": "sha256=ünïcode"},
        {"X-Hub-Signature": "sha1=" + "0" * 40},
    ],
    ids=["missing", "empty", "no digest", "not hex", "non-ascii", "legacy sha1 only"],
)
def test_junk_signature_headers_are_refused(headers):
    assert meta.verify(body=VECTORS[0]["body"].encode(), headers=headers, secret=SECRET) is False


def test_signature_with_another_scheme_is_refused():
    body = VECTORS[0]["body"].encode()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert (
        meta.verify(body=body, headers={"X-Hub-Signature-256": f"sha1={digest}"}, secret=SECRET)
        is False
    )


# Handshake


def test_handshake_answers_the_raw_challenge():
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "t-2"}
    response = meta.handshake(params=params, verify_tokens=["t-1", "t-2"], secrets=[])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    ("params", "verify_tokens"),
    [
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "wrong"}, ["t-1"]),
        ({"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": "t-1"}, ["t-1"]),
        ({"hub.mode": "subscribe", "hub.verify_token": "t-1"}, ["t-1"]),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, ["t-1"]),
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}, [""]),
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "t-1"}, []),
    ],
    ids=["wrong token", "wrong mode", "no challenge", "no token", "empty token", "none configured"],
)
def test_handshake_refuses_bad_parameters(params, verify_tokens):
    with pytest.raises(HandshakeFailed):
        meta.handshake(params=params, verify_tokens=verify_tokens, secrets=[])


# Messenger and Instagram DMs


def test_messenger_text_is_an_inbound_dm():
    payload = load_example("meta", "messenger_text")
    message = payload["entry"][0]["messaging"][0]["message"]
    assert parse_one(payload) == InboundMessage(
        account_id=PAGE_ID,
        platform_message_id=message["mid"],
        source="dm",
        sender=Sender(external_id=USER_ID),
        timestamp=datetime(2025, 1, 15, 10, 0, 0, 118000, tzinfo=UTC),
        text=message["text"],
        external_thread_id=USER_ID,
    )


def test_messenger_image_is_an_image_attachment():
    payload = load_example("meta", "messenger_image")
    attachment = payload["entry"][0]["messaging"][0]["message"]["attachments"][0]
    event = parse_one(payload)
    assert event.content_type == "image"
    assert event.text == ""
    assert event.attachments == (Attachment(type="image", url=attachment["payload"]["url"]),)


def test_instagram_dm_is_an_inbound_dm_for_the_instagram_account():
    payload = load_example("meta", "instagram_dm_text")
    messaging = payload["entry"][0]["messaging"][0]
    event = parse_one(payload)
    assert isinstance(event, InboundMessage)
    assert event.account_id == IG_ACCOUNT_ID
    assert event.source == "dm"
    assert event.sender == Sender(external_id=messaging["sender"]["id"])
    assert event.platform_message_id == messaging["message"]["mid"]
    assert event.text == messaging["message"]["text"]


def test_echo_is_outbound_to_the_customer_and_keeps_its_metadata():
    payload = load_example("meta", "messenger_echo")
    message = payload["entry"][0]["messaging"][0]["message"]
    assert parse_one(payload) == OutboundEcho(
        account_id=PAGE_ID,
        platform_message_id=message["mid"],
        recipient=Sender(external_id=USER_ID),
        timestamp=datetime(2025, 1, 15, 10, 3, 9, 980000, tzinfo=UTC),
        text=message["text"],
        external_thread_id=USER_ID,
        metadata="agent_reply:ticket=5531",
    )


def test_delivery_is_a_receipt_for_its_mids_and_watermark():
    payload = load_example("meta", "messenger_delivery")
    delivery = payload["entry"][0]["messaging"][0]["delivery"]
    assert parse_one(payload) == StatusReceipt(
        account_id=PAGE_ID,
        status="delivered",
        platform_message_ids=tuple(delivery["mids"]),
        watermark=datetime(2025, 1, 15, 10, 3, 9, 980000, tzinfo=UTC),
        customer_external_id=USER_ID,
    )


def test_messenger_read_is_a_watermark_receipt():
    event = parse_one(load_example("meta", "messenger_read"))
    assert event == StatusReceipt(
        account_id=PAGE_ID,
        status="read",
        timestamp=datetime(2025, 1, 15, 10, 4, 10, 977000, tzinfo=UTC),
        watermark=datetime(2025, 1, 15, 10, 3, 9, 980000, tzinfo=UTC),
        customer_external_id=USER_ID,
    )


@pytest.mark.parametrize("key", ["read", "messaging_seen"])
def test_instagram_seen_names_the_message(key):
    event = parse_one(messaging_payload(**{key: {"mid": "m-seen"}}))
    assert isinstance(event, StatusReceipt)
    assert (event.status, event.platform_message_ids, event.watermark) == (
        "read",
        ("m-seen",),
        None,
    )


def test_delivery_without_mids_is_a_watermark_receipt():
    event = parse_one(messaging_payload(delivery={"watermark": 1736935389980}))
    assert event.platform_message_ids == ()
    assert event.watermark == datetime(2025, 1, 15, 10, 3, 9, 980000, tzinfo=UTC)


def test_sticker_is_a_sticker():
    url = "https://scontent.xx.fbcdn.net/sticker.png"
    message = {
        "mid": "m-sticker",
        "sticker_id": 369239263222822,
        "attachments": [{"type": "image", "payload": {"url": url, "sticker_id": 369239263222822}}],
    }
    event = parse_one(messaging_payload(message=message))
    assert event.content_type == "sticker"
    assert event.attachments == (Attachment(type="sticker", url=url),)


def test_link_share_without_payload_is_a_link():
    message = {
        "mid": "m-share",
        "attachments": [
            {
                "type": "fallback",
                "title": "Our shop",
                "url": "https://example.com/shop",
                "payload": None,
            }
        ],
    }
    event = parse_one(messaging_payload(message=message))
    assert event.content_type == "attachment"
    assert event.attachments == (
        Attachment(type="link", url="https://example.com/shop", name="Our shop"),
    )


def test_text_with_a_file_is_a_text_message():
    message = {
        "mid": "m-file",
        "text": "the invoice",
        "attachments": [{"type": "file", "payload": {"url": "https://x/f.pdf"}}],
    }
    event = parse_one(messaging_payload(message=message))
    assert event.content_type == "text"
    assert event.attachments == (Attachment(type="file", url="https://x/f.pdf"),)


def test_reply_names_the_message_it_answers():
    message = {"mid": "m-2", "text": "yes", "reply_to": {"mid": "m-1"}}
    assert parse_one(messaging_payload(message=message)).reply_to_platform_id == "m-1"


def test_unsent_message_is_deleted():
    event = parse_one(messaging_payload(message={"mid": "m-gone", "is_deleted": True}))
    assert isinstance(event, MessageDeleted)
    assert event.platform_message_id == "m-gone"


def test_unsupported_message_is_ignored():
    event = parse_one(messaging_payload(message={"mid": "m-x", "is_unsupported": True}))
    assert event == Ignored(account_id=PAGE_ID, reason="unsupported message")


def test_edit_updates_the_text():
    event = parse_one(
        messaging_payload(message_edit={"mid": "m-1", "text": "fixed", "num_edit": "1"})
    )
    assert event == MessageEdited(
        account_id=PAGE_ID,
        platform_message_id="m-1",
        text="fixed",
        timestamp=datetime(2025, 1, 15, 10, 0, 0, 118000, tzinfo=UTC),
    )


@pytest.mark.parametrize("kind", ["reaction", "postback", "referral", "optin", "brand_new_event"])
def test_other_messaging_events_are_ignored(kind):
    event = parse_one(messaging_payload(**{kind: {"mid": "m-1"}}))
    assert event == Ignored(account_id=PAGE_ID, reason=f"messaging {kind}")


def test_standby_messages_are_parsed_like_messaging():
    payload = load_example("meta", "messenger_text")
    entry = payload["entry"][0]
    entry["standby"] = entry.pop("messaging")
    assert (
        parse_one(payload).text
        == load_example("meta", "messenger_text")["entry"][0]["messaging"][0]["message"]["text"]
    )


def test_unreadable_event_is_ignored_and_the_rest_of_the_batch_kept():
    payload = load_example("meta", "batched")
    del payload["entry"][0]["messaging"][0]["message"]["mid"]
    events = meta.parse(payload)
    assert events[0] == Ignored(account_id=PAGE_ID, reason="unreadable messaging event")
    assert len(events) == 5
    assert events[1].text == payload["entry"][0]["messaging"][1]["message"]["text"]


# Batching


def test_batched_delivery_yields_events_for_each_account():
    payload = load_example("meta", "batched")
    second_page = payload["entry"][1]["id"]
    events = meta.parse(payload)
    assert meta.account_ids(payload) == {PAGE_ID, second_page}
    assert [(type(event), event.account_id) for event in events] == [
        (InboundMessage, PAGE_ID),
        (InboundMessage, PAGE_ID),
        (StatusReceipt, PAGE_ID),
        (InboundMessage, second_page),
        (StatusReceipt, second_page),
    ]
    file_url = payload["entry"][1]["messaging"][0]["message"]["attachments"][0]["payload"]["url"]
    assert events[3].attachments == (Attachment(type="file", url=file_url),)
    assert events[3].content_type == "attachment"
    assert events[4].customer_external_id == payload["entry"][1]["messaging"][1]["sender"]["id"]


# Page feed comments


def test_page_comment_is_an_inbound_comment_on_the_post():
    payload = load_example("meta", "page_comment_add")
    value = payload["entry"][0]["changes"][0]["value"]
    assert parse_one(payload) == InboundMessage(
        account_id=PAGE_ID,
        platform_message_id=value["comment_id"],
        source="comment",
        sender=Sender(external_id=value["from"]["id"], display_name=value["from"]["name"]),
        timestamp=datetime(2025, 1, 15, 10, 15, 1, tzinfo=UTC),
        text=value["message"],
        thread_key=value["post_id"],
        external_thread_id=value["comment_id"],
        post_id=value["post_id"],
        post_url=f"https://www.facebook.com/{value['post_id']}",
    )


def test_reply_to_a_comment_names_its_parent():
    event = parse_one(feed_payload(parent_id="1029384756102938_999"))
    assert event.reply_to_platform_id == "1029384756102938_999"
    assert event.thread_key == "104857362918473_1029384756102938"


def test_comment_by_legacy_sender_fields_names_the_author():
    event = parse_one(feed_payload(**{"from": None, "sender_id": 555, "sender_name": "Old Style"}))
    assert event.sender == Sender(external_id="555", display_name="Old Style")


def test_pages_own_comment_is_ignored():
    event = parse_one(feed_payload(**{"from": {"id": PAGE_ID, "name": "Acme"}}))
    assert event == Ignored(account_id=PAGE_ID, reason="page's own comment")


def test_edited_comment_updates_the_text():
    event = parse_one(feed_payload(verb="edited", message="Do you ship to Austria?"))
    assert event == MessageEdited(
        account_id=PAGE_ID,
        platform_message_id="1029384756102938_1138475629103847",
        text="Do you ship to Austria?",
        timestamp=datetime(2025, 1, 15, 10, 15, 1, tzinfo=UTC),
    )


def test_removed_comment_is_deleted():
    event = parse_one(feed_payload(verb="remove", message=None, created_time=None))
    assert event == MessageDeleted(
        account_id=PAGE_ID, platform_message_id="1029384756102938_1138475629103847"
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [({"verb": "hide"}, "feed comment hide"), ({"item": "reaction"}, "feed reaction add")],
)
def test_other_feed_events_are_ignored(fields, reason):
    assert parse_one(feed_payload(**fields)) == Ignored(account_id=PAGE_ID, reason=reason)


# Instagram comments and mentions


def test_instagram_comment_is_an_inbound_comment_on_the_media():
    payload = load_example("meta", "instagram_comment")
    value = payload["entry"][0]["changes"][0]["value"]
    assert parse_one(payload) == InboundMessage(
        account_id=IG_ACCOUNT_ID,
        platform_message_id=value["id"],
        source="comment",
        sender=Sender(external_id=value["from"]["id"], handle=value["from"]["username"]),
        timestamp=datetime(2025, 1, 15, 10, 35, tzinfo=UTC),
        text=value["text"],
        thread_key=value["media"]["id"],
        external_thread_id=value["id"],
        post_id=value["media"]["id"],
    )


def test_instagram_comment_in_the_flat_entry_shape():
    payload = load_example("meta", "instagram_comment")
    entry = payload["entry"][0]
    entry.update(entry.pop("changes")[0])
    event = parse_one(payload)
    assert isinstance(event, InboundMessage)
    assert event.platform_message_id == entry["value"]["id"]


def test_instagram_accounts_own_comment_is_ignored():
    payload = load_example("meta", "instagram_comment")
    payload["entry"][0]["changes"][0]["value"]["from"] = {"id": IG_ACCOUNT_ID, "username": "acme"}
    assert parse_one(payload) == Ignored(account_id=IG_ACCOUNT_ID, reason="account's own comment")


def test_instagram_mention_names_the_comment_and_media_but_no_text():
    payload = load_example("meta", "instagram_mention")
    value = payload["entry"][0]["changes"][0]["value"]
    event = parse_one(payload)
    assert isinstance(event, InboundMessage)
    assert event.source == "mention"
    assert event.platform_message_id == value["comment_id"]
    assert (event.thread_key, event.post_id) == (value["media_id"], value["media_id"])
    assert event.text == ""
    assert event.timestamp == datetime(2025, 1, 15, 10, 43, 20, tzinfo=UTC)


def test_mentions_by_unknown_authors_are_not_merged_into_one_customer():
    payload = load_example("meta", "instagram_mention")
    first = parse_one(payload)
    payload["entry"][0]["changes"][0]["value"]["comment_id"] = "another-comment"
    second = parse_one(payload)
    assert first.sender.external_id and second.sender.external_id
    assert first.sender.external_id != second.sender.external_id


def test_mention_in_a_caption_is_named_by_its_media():
    payload = load_example("meta", "instagram_mention")
    del payload["entry"][0]["changes"][0]["value"]["comment_id"]
    assert parse_one(payload).platform_message_id == "17955512340987123"


def test_unknown_change_field_is_ignored():
    payload = load_example("meta", "instagram_comment")
    payload["entry"][0]["changes"][0]["field"] = "story_insights"
    assert parse_one(payload) == Ignored(account_id=IG_ACCOUNT_ID, reason="story_insights change")


# Envelope


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"object": "page"},
        {"object": "page", "entry": {"id": PAGE_ID}},
        {"object": "page", "entry": ["not an object"]},
        {"object": "page", "entry": [{"id": PAGE_ID, "messaging": "nope"}]},
    ],
    ids=[
        "not an object",
        "no entry",
        "entry not a list",
        "entry item not an object",
        "messaging not a list",
    ],
)
def test_malformed_envelope_is_refused(payload):
    with pytest.raises(MalformedPayload):
        meta.parse(payload)


def test_every_example_is_tested():
    tested = {
        "batched.json",
        "instagram_comment.json",
        "instagram_dm_text.json",
        "instagram_mention.json",
        "messenger_delivery.json",
        "messenger_echo.json",
        "messenger_image.json",
        "messenger_read.json",
        "messenger_text.json",
        "page_comment_add.json",
    }
    assert example_names("meta") == tested


def test_parsing_does_not_change_the_payload():
    payload = load_example("meta", "batched")
    original = copy.deepcopy(payload)
    meta.parse(payload)
    assert payload == original
