import copy
import json
from datetime import UTC, datetime

import pytest

from integrations.platforms import x
from integrations.platforms.base import (
    Attachment,
    HandshakeFailed,
    Ignored,
    InboundMessage,
    MalformedPayload,
    OutboundEcho,
    Sender,
)
from tests.integrations.platform_fixtures import example_names, load_example, load_vectors

VECTORS = load_vectors("x")
SECRET = VECTORS["crc"][0]["consumer_secret"]
BRAND_ID = "1517369840123456512"
CUSTOMER_ID = "1402963317741568001"
CUSTOMER = Sender(
    external_id=CUSTOMER_ID,
    handle="dana_rivera",
    display_name="Dana Rivera",
    avatar_url="https://pbs.twimg.com/profile_images/402963317741568001/a1B2c3D4_normal.jpg",
)


def parse_one(payload: dict):
    events = x.parse(payload)
    assert len(events) == 1
    return events[0]


def mention_with(**fields) -> dict:
    """Return mention.json with its post's fields replaced."""
    payload = load_example("x", "mention")
    payload["tweet_create_events"][0].update(fields)
    return payload


# Signatures and CRC


@pytest.mark.parametrize("case", VECTORS["body_signature"], ids=lambda case: case["case"])
def test_body_signature_vectors(case):
    headers = {} if case["header"] is None else {VECTORS["header_name"]: case["header"]}
    body = case["body"].encode()
    assert x.verify(body=body, headers=headers, secret=case["consumer_secret"]) is case["valid"]


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["body_signature"] if c["valid"]], ids=lambda case: case["case"]
)
def test_signature_headers_match_the_vectors(case):
    headers = x.signature_headers(body=case["body"].encode(), secret=case["consumer_secret"])
    assert headers == {VECTORS["header_name"]: case["header"]}


def test_signature_header_name_is_case_insensitive():
    case = VECTORS["body_signature"][0]
    headers = {"X-Twitter-Webhooks-Signature": case["header"]}
    assert x.verify(body=case["body"].encode(), headers=headers, secret=SECRET)


@pytest.mark.parametrize(
    "header",
    [
        "sha256=",
        "sha256=%%%not base64%%%",
        "sha256=ünïcode",
        "fk20eHXajXesRc2QS1uelftHWL1xSzHhNl1SsAadZkY=",
    ],
    ids=["no digest", "not base64", "non-ascii", "no scheme"],
)
def test_junk_signature_headers_are_refused(header):
    body = VECTORS["body_signature"][0]["body"].encode()
    assert x.verify(body=body, headers={VECTORS["header_name"]: header}, secret=SECRET) is False


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["crc"] if c["valid"]], ids=lambda c: c["crc_token"]
)
def test_crc_answer_matches_the_vector(case):
    response = x.handshake(
        params={"crc_token": case["crc_token"]}, verify_tokens=[], secrets=[case["consumer_secret"]]
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == case["expected_response_body"]


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["crc"] if not c["valid"]], ids=lambda c: c["case"]
)
def test_crc_answer_differs_from_wrong_candidates(case):
    response = x.handshake(
        params={"crc_token": case["crc_token"]}, verify_tokens=[], secrets=[case["consumer_secret"]]
    )
    assert json.loads(response.content) != case["candidate_response_body"]


def test_crc_uses_the_first_secret():
    case = VECTORS["crc"][0]
    response = x.handshake(
        params={"crc_token": case["crc_token"]}, verify_tokens=[], secrets=[SECRET, "old secret"]
    )
    assert json.loads(response.content) == case["expected_response_body"]


@pytest.mark.parametrize(
    ("params", "secrets"),
    [({}, [SECRET]), ({"crc_token": ""}, [SECRET]), ({"crc_token": "abc"}, [])],
    ids=["no token", "empty token", "no secret"],
)
def test_crc_refuses_bad_parameters(params, secrets):
    with pytest.raises(HandshakeFailed):
        x.handshake(params=params, verify_tokens=[], secrets=secrets)


# Direct messages


def test_dm_is_an_inbound_dm_from_the_customer():
    payload = load_example("x", "dm_text")
    event = payload["direct_message_events"][0]
    assert parse_one(payload) == InboundMessage(
        account_id=BRAND_ID,
        platform_message_id=event["id"],
        source="dm",
        sender=CUSTOMER,
        timestamp=datetime(2024, 5, 31, 17, 0, 0, 123000, tzinfo=UTC),
        text=event["message_create"]["message_data"]["text"],
        external_thread_id=CUSTOMER_ID,
    )


def test_dm_media_is_an_attachment_and_its_link_leaves_the_text():
    payload = load_example("x", "dm_media")
    media = payload["direct_message_events"][0]["message_create"]["message_data"]["attachment"][
        "media"
    ]
    event = parse_one(payload)
    assert event.text == "Here is the damaged box"
    assert event.content_type == "text"
    assert event.attachments == (Attachment(type="image", url=media["media_url_https"]),)


def test_dm_with_only_a_video_is_a_video():
    payload = load_example("x", "dm_media")
    data = payload["direct_message_events"][0]["message_create"]["message_data"]
    data["text"] = data["attachment"]["media"]["url"]
    data["attachment"]["media"]["type"] = "animated_gif"
    event = parse_one(payload)
    assert (event.text, event.content_type, event.attachments[0].type) == ("", "video", "video")


def test_dm_sent_by_the_brand_is_an_echo_to_the_customer():
    payload = load_example("x", "dm_echo_sent_by_brand")
    event = payload["direct_message_events"][0]
    assert parse_one(payload) == OutboundEcho(
        account_id=BRAND_ID,
        platform_message_id=event["id"],
        recipient=CUSTOMER,
        timestamp=datetime(2024, 5, 31, 17, 9, 59, 10000, tzinfo=UTC),
        text=event["message_create"]["message_data"]["text"],
        external_thread_id=CUSTOMER_ID,
    )


def test_several_dms_in_one_delivery():
    payload = load_example("x", "dm_text")
    second = copy.deepcopy(payload["direct_message_events"][0])
    second["id"] = "1796120393447022597"
    payload["direct_message_events"].append(second)
    assert [event.platform_message_id for event in x.parse(payload)] == [
        "1796120393447022596",
        "1796120393447022597",
    ]


def test_dm_event_of_another_type_is_ignored():
    payload = load_example("x", "dm_text")
    payload["direct_message_events"][0]["type"] = "welcome_message"
    assert parse_one(payload) == Ignored(
        account_id=BRAND_ID, reason="direct message welcome_message"
    )


def test_unreadable_dm_is_ignored():
    payload = load_example("x", "dm_text")
    del payload["direct_message_events"][0]["message_create"]["sender_id"]
    assert parse_one(payload) == Ignored(
        account_id=BRAND_ID, reason="unreadable direct_message_events"
    )


# Posts


def test_mention_is_an_inbound_mention_answered_on_the_post():
    payload = load_example("x", "mention")
    post = payload["tweet_create_events"][0]
    assert parse_one(payload) == InboundMessage(
        account_id=BRAND_ID,
        platform_message_id=post["id_str"],
        source="mention",
        sender=CUSTOMER,
        timestamp=datetime(2024, 5, 31, 17, 5, 12, tzinfo=UTC),
        text=post["text"],
        thread_key=post["id_str"],
        external_thread_id=post["id_str"],
        post_id=post["id_str"],
        post_url=f"https://x.com/dana_rivera/status/{post['id_str']}",
        language="en",
    )


def test_reply_is_threaded_on_the_post_it_answers():
    event = parse_one(mention_with(in_reply_to_status_id_str="1795637200118353920"))
    assert (event.thread_key, event.post_id) == ("1795637200118353920", "1795637200118353920")
    assert event.reply_to_platform_id == "1795637200118353920"
    assert event.external_thread_id == "1796121709853114368"


def test_long_post_uses_the_full_text():
    full_text = "@AcmeSupport " + "crash " * 60
    event = parse_one(mention_with(truncated=True, extended_tweet={"full_text": full_text}))
    assert event.text == full_text


def test_own_post_is_ignored():
    user = load_example("x", "mention")["tweet_create_events"][0]["user"] | {"id_str": BRAND_ID}
    assert parse_one(mention_with(user=user)) == Ignored(account_id=BRAND_ID, reason="own post")


def test_retweet_is_ignored():
    event = parse_one(mention_with(retweeted_status={"id_str": "1"}))
    assert event == Ignored(account_id=BRAND_ID, reason="retweet")


# Other events and the envelope


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ignore_favorite", "favorite_events"),
        ("ignore_typing", "direct_message_indicate_typing_events"),
    ],
)
def test_non_message_events_are_ignored(name, reason):
    assert parse_one(load_example("x", name)) == Ignored(account_id=BRAND_ID, reason=reason)


def test_unknown_event_kind_is_ignored():
    payload = {
        "for_user_id": BRAND_ID,
        "direct_message_mark_read_events": [{"created_timestamp": "1"}],
    }
    assert parse_one(payload) == Ignored(
        account_id=BRAND_ID, reason="direct_message_mark_read_events"
    )


def test_revocation_names_no_account():
    payload = {
        "user_event": {
            "revoke": {"date_time": "2024-05-31T17:00:00Z", "source": {"user_id": BRAND_ID}}
        }
    }
    assert x.account_ids(payload) == set()
    assert x.parse(payload, account_id=BRAND_ID) == [
        Ignored(account_id=BRAND_ID, reason="user_event")
    ]


def test_account_ids_names_the_subscribed_user():
    assert x.account_ids(load_example("x", "dm_text")) == {BRAND_ID}


@pytest.mark.parametrize(
    "payload",
    [[], "text", {"for_user_id": BRAND_ID, "direct_message_events": {"id": "1"}}],
    ids=["list", "string", "events not a list"],
)
def test_malformed_envelope_is_refused(payload):
    with pytest.raises(MalformedPayload):
        x.parse(payload)


def test_every_example_is_tested():
    tested = {
        "dm_echo_sent_by_brand.json",
        "dm_media.json",
        "dm_text.json",
        "ignore_favorite.json",
        "ignore_typing.json",
        "mention.json",
    }
    assert example_names("x") == tested
