import copy
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from integrations.http import PlatformClient, RateLimited, TokenExpired
from integrations.outbound import Account
from integrations.platforms import bluesky
from integrations.platforms.base import (
    Attachment,
    Ignored,
    InboundMessage,
    MalformedPayload,
    MessageDeleted,
    OutboundEcho,
    Sender,
)
from integrations.platforms.timeconv import from_iso
from tests.integrations.platform_fixtures import load_example

BRAND_DID = "did:plc:7kq2mzx4vw3nb5td6hryaj2e"
PDS = "https://pds.example"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjOmFjbWUifQ.c2lnbmF0dXJl"


def parse_stream(stream: str, page: dict) -> list:
    return bluesky.parse({"stream": stream, "page": page}, account_id=BRAND_DID)


def parse_example(stream: str, name: str) -> list:
    return parse_stream(stream, load_example("bluesky", name))


def log_with_message(name: str, **message_changes) -> dict:
    """Return the first log of an example getLog page, with its message's fields changed."""
    log = copy.deepcopy(load_example("bluesky", name)["logs"][0])
    log["message"].update(message_changes)
    return log


def profile_sender(profile: dict) -> Sender:
    return Sender(
        external_id=profile["did"],
        handle=profile["handle"],
        display_name=profile["displayName"],
        avatar_url=profile["avatar"],
    )


@pytest.fixture
def http():
    with responses.RequestsMock() as mock:
        yield mock


# Chat (chat.bsky.convo.getLog)


def test_customer_message_is_an_inbound_dm():
    log = load_example("bluesky", "getlog_dm_text")["logs"][0]
    message = log["message"]
    (customer,) = [p for p in log["relatedProfiles"] if p["did"] == message["sender"]["did"]]

    (event,) = parse_example("chat", "getlog_dm_text")

    assert event == InboundMessage(
        account_id=BRAND_DID,
        platform_message_id=f"{log['convoId']}:{message['id']}",
        source="dm",
        sender=profile_sender(customer),
        timestamp=from_iso(message["sentAt"]),
        text=message["text"],
        content_type="text",
        thread_key="",
        external_thread_id=log["convoId"],
    )
    assert event.timestamp.utcoffset().total_seconds() == 0


def test_sender_without_related_profile_is_named_by_did():
    log = load_example("bluesky", "getlog_dm_text")["logs"][0]
    del log["relatedProfiles"]

    (event,) = parse_stream("chat", {"logs": [log]})

    assert event.sender == Sender(external_id=log["message"]["sender"]["did"])


def test_shared_post_becomes_a_link_followed_by_its_images():
    log = load_example("bluesky", "getlog_dm_shared_post_with_image")["logs"][0]
    post = log["message"]["embed"]["record"]
    rkey = post["uri"].rsplit("/", 1)[1]
    (image,) = post["embeds"][0]["images"]

    (event,) = parse_example("chat", "getlog_dm_shared_post_with_image")

    assert event.text == log["message"]["text"]
    assert event.attachments == (
        Attachment(
            type="link", url=f"https://bsky.app/profile/{post['author']['handle']}/post/{rkey}"
        ),
        Attachment(type="image", url=image["fullsize"], name=image["alt"]),
    )


def test_shared_post_of_an_author_with_an_invalid_handle_links_by_did():
    log = load_example("bluesky", "getlog_dm_shared_post_with_image")["logs"][0]
    post = log["message"]["embed"]["record"]
    post["author"]["handle"] = "handle.invalid"
    did, rkey = post["uri"].removeprefix("at://").split("/")[0], post["uri"].rsplit("/", 1)[1]

    (event,) = parse_stream("chat", {"logs": [log]})

    assert event.attachments[0].url == f"https://bsky.app/profile/{did}/post/{rkey}"


def test_shared_post_without_text_is_an_attachment_message():
    log = log_with_message("getlog_dm_shared_post_with_image", text="")

    (event,) = parse_stream("chat", {"logs": [log]})

    assert event.content_type == "attachment"


def test_own_sends_in_the_log_are_echoes():
    page = load_example("bluesky", "getlog_ignore_non_message")
    (echo_log,) = [log for log in page["logs"] if log["$type"].endswith("#logCreateMessage")]
    message = echo_log["message"]

    events = parse_stream("chat", page)

    assert events == [
        Ignored(account_id=BRAND_DID, reason=page["logs"][0]["$type"]),
        OutboundEcho(
            account_id=BRAND_DID,
            platform_message_id=f"{echo_log['convoId']}:{message['id']}",
            # This log names no profiles, so the recipient is unknown.
            recipient=Sender(external_id=""),
            timestamp=from_iso(message["sentAt"]),
            text=message["text"],
            external_thread_id=echo_log["convoId"],
        ),
        Ignored(account_id=BRAND_DID, reason=page["logs"][2]["$type"]),
    ]


def test_echo_recipient_is_the_other_member_when_profiles_are_named():
    profiles = load_example("bluesky", "getlog_dm_text")["logs"][0]["relatedProfiles"]
    (customer,) = [p for p in profiles if p["did"] != BRAND_DID]
    log = log_with_message("getlog_dm_text", sender={"did": BRAND_DID})

    (event,) = parse_stream("chat", {"logs": [log]})

    assert isinstance(event, OutboundEcho)
    assert event.recipient == profile_sender(customer)


def test_created_log_with_a_deleted_message_view_is_a_deletion():
    log = log_with_message("getlog_dm_text", **{"$type": "chat.bsky.convo.defs#deletedMessageView"})
    del log["message"]["text"]

    (event,) = parse_stream("chat", {"logs": [log]})

    assert event == MessageDeleted(
        account_id=BRAND_DID, platform_message_id=f"{log['convoId']}:{log['message']['id']}"
    )


def test_delete_log_is_a_deletion():
    log = load_example("bluesky", "getlog_dm_text")["logs"][0]
    log["$type"] = "chat.bsky.convo.defs#logDeleteMessage"

    (event,) = parse_stream("chat", {"logs": [log]})

    assert event == MessageDeleted(
        account_id=BRAND_DID, platform_message_id=f"{log['convoId']}:{log['message']['id']}"
    )


@pytest.mark.parametrize(
    "log_type",
    ["chat.bsky.convo.defs#logBeginConvo", "chat.bsky.convo.defs#logAddMember", "future#kind"],
)
def test_other_log_types_are_ignored_by_type(log_type):
    (event,) = parse_stream("chat", {"logs": [{"$type": log_type, "rev": "1", "convoId": "c"}]})
    assert event == Ignored(account_id=BRAND_DID, reason=log_type)


def test_unreadable_log_is_ignored_without_losing_the_rest_of_the_page():
    page = load_example("bluesky", "getlog_dm_text")
    broken = copy.deepcopy(page["logs"][0])
    del broken["message"]["sentAt"]
    page["logs"].insert(0, broken)

    broken_event, event = parse_stream("chat", page)

    assert broken_event == Ignored(account_id=BRAND_DID, reason="unreadable logs")
    assert isinstance(event, InboundMessage)


# Notifications (app.bsky.notification.listNotifications)


def test_reply_is_a_comment_in_the_thread_of_its_root():
    notification = load_example("bluesky", "notifications_mention_reply")["notifications"][0]
    assert notification["reason"] == "reply"
    record = notification["record"]
    rkey = notification["uri"].rsplit("/", 1)[1]

    event = parse_example("notifications", "notifications_mention_reply")[0]

    assert event == InboundMessage(
        account_id=BRAND_DID,
        platform_message_id=notification["uri"],
        source="comment",
        sender=profile_sender(notification["author"]),
        timestamp=from_iso(record["createdAt"]),
        text=record["text"],
        thread_key=record["reply"]["root"]["uri"],
        external_thread_id=notification["uri"],
        post_id=record["reply"]["root"]["uri"],
        post_url=f"https://bsky.app/profile/{notification['author']['handle']}/post/{rkey}",
        language=record["langs"][0],
    )


def test_mention_outside_a_thread_starts_its_own_thread():
    notification = load_example("bluesky", "notifications_mention_reply")["notifications"][1]
    assert notification["reason"] == "mention"

    event = parse_example("notifications", "notifications_mention_reply")[1]

    assert event.source == "mention"
    assert event.text == notification["record"]["text"]
    assert event.thread_key == notification["uri"]
    assert event.post_id == notification["uri"]
    assert event.platform_message_id == notification["uri"]


def test_quote_is_a_mention():
    page = load_example("bluesky", "notifications_mention_reply")
    page["notifications"][1]["reason"] = "quote"

    assert parse_stream("notifications", page)[1].source == "mention"


def test_post_without_created_at_is_timed_by_indexed_at():
    page = load_example("bluesky", "notifications_mention_reply")
    notification = page["notifications"][1]
    del notification["record"]["createdAt"]

    event = parse_stream("notifications", page)[1]

    assert event.timestamp == from_iso(notification["indexedAt"])


def test_likes_and_follows_are_ignored_by_reason():
    page = load_example("bluesky", "notifications_ignore_like_follow")

    events = parse_stream("notifications", page)

    assert events == [
        Ignored(account_id=BRAND_DID, reason=item["reason"]) for item in page["notifications"]
    ]


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"stream": "chat"},
        {"stream": "chat", "page": []},
        {"stream": "firehose", "page": {}},
        {"page": {"logs": []}},
        {"stream": ["chat"], "page": {"logs": []}},
        {"stream": "chat", "page": {"logs": {"rev": "1"}}},
    ],
    ids=[
        "list",
        "no-page",
        "page-not-object",
        "unknown-stream",
        "no-stream",
        "stream-not-string",
        "logs-not-list",
    ],
)
def test_malformed_delivery_is_rejected(payload):
    with pytest.raises(MalformedPayload):
        bluesky.parse(payload, account_id=BRAND_DID)


# Cursor helpers


def test_new_log_entries_keeps_only_logs_after_the_stored_rev():
    page = load_example("bluesky", "getlog_ignore_non_message")
    first_rev = page["logs"][0]["rev"]

    newer = bluesky.new_log_entries(page, after_rev=first_rev)

    assert newer["logs"] == page["logs"][1:]
    assert newer["cursor"] == page["cursor"]
    assert len(page["logs"]) == 3  # the page itself is left as it was


def test_new_log_entries_after_the_newest_rev_is_empty():
    page = load_example("bluesky", "getlog_ignore_non_message")

    assert bluesky.new_log_entries(page, after_rev=bluesky.max_rev(page))["logs"] == []


def test_new_log_entries_without_a_stored_rev_keeps_everything():
    page = load_example("bluesky", "getlog_ignore_non_message")

    assert bluesky.new_log_entries(page, after_rev="")["logs"] == page["logs"]


def test_max_rev_is_the_highest_log_rev():
    page = load_example("bluesky", "getlog_ignore_non_message")

    assert bluesky.max_rev(page) == max(log["rev"] for log in page["logs"])
    assert bluesky.max_rev({"cursor": "x", "logs": []}) == ""


def test_notifications_stop_at_the_first_already_seen():
    page = load_example("bluesky", "notifications_mention_reply")
    newest, older = page["notifications"]

    kept, stop = bluesky.notifications_newer_than(page, seen_at=older["indexedAt"])

    assert kept == [newest]
    assert stop is True


def test_notifications_all_newer_keep_paging():
    page = load_example("bluesky", "notifications_mention_reply")

    kept, stop = bluesky.notifications_newer_than(page, seen_at="2024-05-31T00:00:00.000Z")

    assert kept == page["notifications"]
    assert stop is False


def test_notifications_without_a_stored_time_keep_everything():
    page = load_example("bluesky", "notifications_mention_reply")

    assert bluesky.notifications_newer_than(page, seen_at="") == (page["notifications"], False)


def test_notification_seen_at_with_more_digits_is_still_equal():
    page = load_example("bluesky", "notifications_mention_reply")
    newest_time = page["notifications"][0]["indexedAt"]  # "...03.900Z"
    same_time = newest_time.replace("Z", "000Z")

    assert bluesky.notifications_newer_than(page, seen_at=same_time) == ([], True)


# Fetching through the shared platform client


@pytest.fixture
def account() -> Account:
    return Account(channel_id=1, platform="bluesky", account_id=BRAND_DID, credential=JWT, base_url=PDS)


@pytest.fixture
def client(db) -> PlatformClient:
    # The session JWT is one of the client's secrets, as `integrations.sending` makes it.
    return PlatformClient(
        platform="bluesky", account_id=BRAND_DID, dialect=bluesky.DIALECT, secrets=(JWT,), sleep=lambda _: None
    )


def test_get_log_goes_through_the_chat_proxy_with_the_cursor(http, client, account):
    page = load_example("bluesky", "getlog_dm_text")
    http.get(
        f"{PDS}/xrpc/chat.bsky.convo.getLog",
        match=[
            matchers.header_matcher(
                {"Authorization": f"Bearer {JWT}", "atproto-proxy": "did:web:api.bsky.chat#bsky_chat"}
            ),
            matchers.query_param_matcher({"cursor": "2222vgf7ts3ck"}),
        ],
        json=page,
    )

    assert bluesky.get_log(client=client, account=account, cursor="2222vgf7ts3ck") == page


def test_get_log_without_a_cursor_sends_none(http, client, account):
    http.get(
        f"{PDS}/xrpc/chat.bsky.convo.getLog",
        match=[matchers.query_param_matcher({})],
        json={"cursor": "2222vgf7ts3ck", "logs": []},
    )

    assert bluesky.get_log(client=client, account=account, cursor=None)["logs"] == []


def test_list_notifications_asks_for_mentions_replies_and_quotes(http, client, account):
    page = load_example("bluesky", "notifications_mention_reply")
    http.get(f"{PDS}/xrpc/app.bsky.notification.listNotifications", json=page)

    result = bluesky.list_notifications(client=client, account=account, cursor="c1", limit=25)

    request = http.calls[0].request
    assert result == page
    assert parse_qs(urlsplit(request.url).query) == {
        "limit": ["25"],
        "reasons": ["mention", "reply", "quote"],
        "cursor": ["c1"],
    }
    assert request.headers["Authorization"] == f"Bearer {JWT}"
    # Notifications come from the AppView, not the chat service.
    assert "atproto-proxy" not in request.headers


def test_expired_token_is_told_apart_and_never_repeats_the_jwt(http, client, account):
    http.get(
        f"{PDS}/xrpc/chat.bsky.convo.getLog",
        status=400,
        json={"error": "ExpiredToken", "message": f"Token has expired: {JWT}"},
    )

    with pytest.raises(TokenExpired) as caught:
        bluesky.get_log(client=client, account=account, cursor=None)

    assert JWT not in str(caught.value)


def test_rate_limit_answer_hands_its_wait_to_the_task(http, client, account):
    """Retry-After is longer than a worker waits inline: the task retries after it instead."""
    example = load_example("bluesky", "error_429")
    http.get(
        f"{PDS}/xrpc/app.bsky.notification.listNotifications",
        status=example["status"],
        headers=example["headers"],
        json=example["body"],
    )

    with pytest.raises(RateLimited) as caught:
        bluesky.list_notifications(client=client, account=account, cursor=None)

    assert caught.value.retry_after >= int(example["headers"]["Retry-After"])
