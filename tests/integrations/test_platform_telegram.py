from datetime import UTC, datetime

import pytest

from integrations.platforms import telegram
from integrations.platforms.base import (
    Attachment,
    Ignored,
    InboundMessage,
    MalformedPayload,
    MessageEdited,
    Sender,
)
from tests.integrations.platform_fixtures import load_example, load_vectors

ACCOUNT_ID = "42"
VECTORS = load_vectors("telegram")


def parse_one(payload: dict):
    events = telegram.parse(payload, account_id=ACCOUNT_ID)
    assert len(events) == 1
    return events[0]


def with_message(name: str, **changes) -> dict:
    """Return an example update whose `message` has the given fields set (None removes one)."""
    payload = load_example("telegram", name)
    for field, value in changes.items():
        payload["message"].pop(field, None)
        if value is not None:
            payload["message"][field] = value
    return payload


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["case"])
def test_secret_token_vectors(case):
    headers = {} if case["header"] is None else {VECTORS["header_name"]: case["header"]}
    assert (
        telegram.verify(body=b"{}", headers=headers, secret=case["configured_secret"])
        is case["valid"]
    )


def test_secret_header_name_is_matched_case_insensitively():
    secret = VECTORS["cases"][0]["configured_secret"]
    headers = {VECTORS["header_name"].lower(): secret}
    assert telegram.verify(body=b"{}", headers=headers, secret=secret) is True


@pytest.mark.parametrize("header", ["", "anything"])
def test_empty_configured_secret_refuses_every_delivery(header):
    headers = {VECTORS["header_name"]: header}
    assert telegram.verify(body=b"{}", headers=headers, secret="") is False


def test_non_ascii_header_is_refused_without_error():
    headers = {VECTORS["header_name"]: "sécret"}
    assert telegram.verify(body=b"{}", headers=headers, secret="secret") is False


def test_update_names_no_account():
    assert telegram.account_ids(load_example("telegram", "dm_text")) == set()


def test_private_text_message_is_an_inbound_dm():
    payload = load_example("telegram", "dm_text")
    message = payload["message"]
    user = message["from"]

    event = parse_one(payload)

    assert event == InboundMessage(
        account_id=ACCOUNT_ID,
        platform_message_id=f"{message['chat']['id']}:{message['message_id']}",
        source="dm",
        sender=Sender(
            external_id=str(user["id"]),
            handle=user["username"],
            display_name=f"{user['first_name']} {user['last_name']}",
            avatar_url="",
        ),
        timestamp=datetime.fromtimestamp(message["date"], tz=UTC),
        text=message["text"],
        content_type="text",
        thread_key="",
        external_thread_id=str(message["chat"]["id"]),
    )


def test_timestamp_is_timezone_aware_utc():
    event = parse_one(load_example("telegram", "dm_text"))
    assert event.timestamp.utcoffset().total_seconds() == 0


def test_photo_keeps_a_file_id_reference_to_the_largest_size_and_the_caption():
    payload = load_example("telegram", "dm_photo")
    message = payload["message"]
    largest = max(message["photo"], key=lambda size: size["width"] * size["height"])

    event = parse_one(payload)

    assert event.content_type == "image"
    assert event.text == message["caption"]
    assert event.attachments == (Attachment(type="image", url=f"tg-file:{largest['file_id']}"),)
    assert "api.telegram.org" not in event.attachments[0].url


@pytest.mark.parametrize(
    ("field", "media", "attachment_type", "content_type"),
    [
        ("document", {"file_id": "doc-1", "file_name": "invoice.pdf"}, "file", "attachment"),
        ("voice", {"file_id": "voice-1", "duration": 3}, "audio", "audio"),
        ("audio", {"file_id": "audio-1", "file_name": "call.mp3"}, "audio", "audio"),
        ("video", {"file_id": "video-1", "duration": 9}, "video", "video"),
        ("sticker", {"file_id": "sticker-1", "emoji": "👍"}, "sticker", "sticker"),
    ],
)
def test_media_message_maps_to_attachment(field, media, attachment_type, content_type):
    event = parse_one(with_message("dm_text", text=None, **{field: media}))

    assert event.content_type == content_type
    assert event.attachments == (
        Attachment(
            type=attachment_type,
            url=f"tg-file:{media['file_id']}",
            name=media.get("file_name", ""),
        ),
    )


def test_getupdates_result_entries_parse_one_by_one():
    updates = load_example("telegram", "getupdates_response")["result"]

    events = [parse_one(update) for update in updates]

    assert [event.platform_message_id for event in events] == [
        f"{update['message']['chat']['id']}:{update['message']['message_id']}" for update in updates
    ]


def test_group_mention_is_keyed_by_chat():
    payload = load_example("telegram", "group_mention")
    message = payload["message"]
    chat_id = str(message["chat"]["id"])

    event = parse_one(payload)

    assert event.source == "mention"
    assert event.thread_key == chat_id
    assert event.external_thread_id == chat_id
    assert event.platform_message_id == f"{chat_id}:{message['message_id']}"
    assert event.text == message["text"]
    assert event.reply_to_platform_id == ""
    # No last_name: the display name is the first name alone, without a trailing space.
    assert event.sender == Sender(
        external_id=str(message["from"]["id"]),
        handle=message["from"]["username"],
        display_name=message["from"]["first_name"],
    )


def test_forum_topic_message_is_keyed_by_chat_and_topic():
    payload = with_message("group_mention", message_thread_id=7, is_topic_message=True)

    event = parse_one(payload)

    assert event.thread_key == f"{payload['message']['chat']['id']}:7"


def test_reply_thread_outside_a_forum_is_keyed_by_chat_alone():
    payload = with_message("group_mention", message_thread_id=7)

    assert parse_one(payload).thread_key == str(payload["message"]["chat"]["id"])


def test_group_reply_names_the_message_replied_to():
    chat = load_example("telegram", "group_mention")["message"]["chat"]
    replied = {"message_id": 88800, "chat": chat, "date": 1717177000, "text": "We're on it."}

    event = parse_one(with_message("group_mention", reply_to_message=replied))

    assert event.reply_to_platform_id == f"{chat['id']}:88800"


def test_forum_topic_creation_message_is_not_a_reply():
    chat = load_example("telegram", "group_mention")["message"]["chat"]
    topic_root = {"message_id": 7, "chat": chat, "date": 1717170000, "forum_topic_created": {}}
    payload = with_message(
        "group_mention", message_thread_id=7, is_topic_message=True, reply_to_message=topic_root
    )

    assert parse_one(payload).reply_to_platform_id == ""


def test_message_on_behalf_of_a_chat_is_attributed_to_that_chat():
    sender_chat = {"id": -1001987654321, "title": "Acme Community", "type": "supergroup"}

    event = parse_one(with_message("group_mention", sender_chat=sender_chat))

    assert event.sender == Sender(external_id=str(sender_chat["id"]), display_name="Acme Community")


def test_edited_message_updates_text_by_the_same_key():
    payload = load_example("telegram", "ignore_edited_message")
    edited = payload["edited_message"]

    event = parse_one(payload)

    assert event == MessageEdited(
        account_id=ACCOUNT_ID,
        platform_message_id=f"{edited['chat']['id']}:{edited['message_id']}",
        text=edited["text"],
        timestamp=datetime.fromtimestamp(edited["edit_date"], tz=UTC),
    )


def test_my_chat_member_is_ignored():
    event = parse_one(load_example("telegram", "ignore_my_chat_member"))
    assert event == Ignored(account_id=ACCOUNT_ID, reason="my_chat_member")


@pytest.mark.parametrize(
    "kind",
    ["chat_member", "channel_post", "callback_query", "message_reaction", "some_future_kind"],
)
def test_other_update_kinds_are_ignored_by_kind(kind):
    event = parse_one({"update_id": 1, kind: {"chat": {"id": 1}}})
    assert event == Ignored(account_id=ACCOUNT_ID, reason=kind)


def test_unreadable_message_is_ignored_rather_than_refused():
    payload = with_message("dm_text", chat=None)

    assert parse_one(payload) == Ignored(account_id=ACCOUNT_ID, reason="unreadable message")


@pytest.mark.parametrize(
    "payload",
    [[], "update", {"message": {}}, {"update_id": "384716201"}, {"update_id": True}],
    ids=["list", "string", "no-update-id", "string-update-id", "bool-update-id"],
)
def test_malformed_update_is_rejected(payload):
    with pytest.raises(MalformedPayload):
        telegram.parse(payload, account_id=ACCOUNT_ID)
