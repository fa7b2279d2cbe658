import copy
import json
from datetime import UTC, datetime

import pytest

from integrations.platforms import linkedin
from integrations.platforms.base import (
    Attachment,
    HandshakeFailed,
    Ignored,
    InboundMessage,
    MalformedPayload,
    MessageDeleted,
    MessageEdited,
    Sender,
)
from tests.integrations.platform_fixtures import example_names, load_example, load_vectors

VECTORS = load_vectors("linkedin")
SECRET = VECTORS["challenge"][0]["client_secret"]
ORG = "urn:li:organization:81234567"
POST = "urn:li:activity:7203456790123456789"
COMMENT_URN = "urn:li:comment:(urn:li:activity:7203456790123456789,7203499988877766655)"


def parse_one(payload: dict):
    events = linkedin.parse(payload)
    assert len(events) == 1
    return events[0]


def comment_notification(**fields) -> dict:
    """Return comment.json with its notification's fields replaced (None removes one)."""
    payload = load_example("linkedin", "comment")
    notification = payload["notifications"][0]
    for field, value in fields.items():
        notification.pop(field, None)
        if value is not None:
            notification[field] = value
    return payload


# Signatures and the validation challenge


@pytest.mark.parametrize("case", VECTORS["body_signature"], ids=lambda case: case["case"])
def test_body_signature_vectors(case):
    headers = {} if case["header"] is None else {VECTORS["header_name"]: case["header"]}
    body = case["body"].encode()
    assert (
        linkedin.verify(body=body, headers=headers, secret=case["client_secret"]) is case["valid"]
    )


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["body_signature"] if c["valid"]], ids=lambda case: case["case"]
)
def test_signature_headers_match_the_vectors(case):
    headers = linkedin.signature_headers(body=case["body"].encode(), secret=case["client_secret"])
    assert headers == {VECTORS["header_name"]: case["header"]}


def test_signature_is_compared_case_insensitively():
    case = VECTORS["body_signature"][0]
    headers = {"x-li-signature": case["header"].upper()}
    assert linkedin.verify(body=case["body"].encode(), headers=headers, secret=SECRET)


@pytest.mark.parametrize(
    "header", ["", "zz-not-hex", "ünïcode"], ids=["empty", "not hex", "non-ascii"]
)
def test_junk_signature_headers_are_refused(header):
    body = VECTORS["body_signature"][0]["body"].encode()
    assert linkedin.verify(body=body, headers={"X-LI-Signature": header}, secret=SECRET) is False


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["challenge"] if c["valid"]], ids=lambda c: c["challengeCode"]
)
def test_challenge_answer_matches_the_vector(case):
    params = {"challengeCode": case["challengeCode"], "applicationId": "77"}
    response = linkedin.handshake(params=params, verify_tokens=[], secrets=[case["client_secret"]])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == case["expected_response_body"]


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["challenge"] if not c["valid"]], ids=lambda c: c["case"]
)
def test_challenge_answer_differs_from_wrong_candidates(case):
    params = {"challengeCode": case["challengeCode"]}
    response = linkedin.handshake(params=params, verify_tokens=[], secrets=[case["client_secret"]])
    assert json.loads(response.content) != case["candidate_response_body"]


@pytest.mark.parametrize(
    ("params", "secrets"),
    [({}, [SECRET]), ({"challengeCode": ""}, [SECRET]), ({"challengeCode": "abc"}, [])],
    ids=["no code", "empty code", "no secret"],
)
def test_challenge_refuses_bad_parameters(params, secrets):
    with pytest.raises(HandshakeFailed):
        linkedin.handshake(params=params, verify_tokens=[], secrets=secrets)


# Comment URNs


@pytest.mark.parametrize(
    "urn",
    [
        "urn:li:comment:(activity:7203456790123456789,7203499988877766655)",
        "urn:li:comment:(urn:li:activity:7203456790123456789,7203499988877766655)",
    ],
)
def test_both_comment_urn_spellings_become_one(urn):
    assert linkedin.comment_urn(urn) == COMMENT_URN


# Webhook notifications


def test_comment_is_an_inbound_comment_on_the_post():
    payload = load_example("linkedin", "comment")
    comment = payload["notifications"][0]["decoratedGeneratedActivity"]["comment"]
    assert parse_one(payload) == InboundMessage(
        account_id=ORG,
        platform_message_id=COMMENT_URN,
        source="comment",
        sender=Sender(external_id=comment["owner"]),
        timestamp=datetime(2024, 5, 31, 18, 40, tzinfo=UTC),
        text=comment["text"],
        thread_key=POST,
        external_thread_id=COMMENT_URN,
        post_id=POST,
        post_url=f"https://www.linkedin.com/feed/update/{POST}/",
    )


def test_comment_without_decorated_entity_uses_the_generated_activity():
    payload = load_example("linkedin", "comment")
    del payload["notifications"][0]["decoratedGeneratedActivity"]["comment"]["entity"]
    assert parse_one(payload).platform_message_id == COMMENT_URN


def test_organizations_own_comment_is_ignored():
    payload = load_example("linkedin", "comment")
    payload["notifications"][0]["decoratedGeneratedActivity"]["comment"]["owner"] = ORG
    assert parse_one(payload) == Ignored(account_id=ORG, reason="organization's own comment")


def test_mention_is_an_inbound_mention_on_the_share():
    payload = load_example("linkedin", "mention")
    notification = payload["notifications"][0]
    share = notification["generatedActivity"]
    assert parse_one(payload) == InboundMessage(
        account_id=ORG,
        platform_message_id=share,
        source="mention",
        sender=Sender(external_id=notification["decoratedSourcePost"]["owner"]),
        timestamp=datetime(2024, 5, 31, 18, 50, tzinfo=UTC),
        text=notification["decoratedSourcePost"]["text"],
        thread_key=share,
        external_thread_id=share,
        post_id=share,
        post_url=f"https://www.linkedin.com/feed/update/{share}/",
    )


def test_mention_without_generated_activity_uses_the_source_post_entity():
    payload = load_example("linkedin", "mention")
    del payload["notifications"][0]["generatedActivity"]
    assert parse_one(payload).platform_message_id == "urn:li:share:7203511122233344400"


def test_comment_edit_updates_the_text():
    event = parse_one(comment_notification(action="COMMENT_EDIT"))
    comment = load_example("linkedin", "comment")["notifications"][0]["decoratedGeneratedActivity"][
        "comment"
    ]
    assert event == MessageEdited(
        account_id=ORG,
        platform_message_id=COMMENT_URN,
        text=comment["text"],
        timestamp=datetime(2024, 5, 31, 18, 40, tzinfo=UTC),
    )


def test_comment_delete_deletes_the_comment():
    event = parse_one(
        comment_notification(action="COMMENT_DELETE", decoratedGeneratedActivity=None)
    )
    assert event == MessageDeleted(
        account_id=ORG,
        platform_message_id=COMMENT_URN,
        timestamp=datetime(2024, 5, 31, 18, 40, tzinfo=UTC),
    )


def test_like_is_ignored():
    assert parse_one(load_example("linkedin", "ignore_like")) == Ignored(
        account_id=ORG, reason="LIKE notification"
    )


@pytest.mark.parametrize("action", ["SHARE", "ADMIN_COMMENT", "SOMETHING_NEW"])
def test_other_actions_are_ignored(action):
    assert parse_one(comment_notification(action=action)) == Ignored(
        account_id=ORG, reason=f"{action} notification"
    )


def test_unreadable_notification_is_ignored():
    event = parse_one(comment_notification(lastModifiedAt="yesterday"))
    assert event == Ignored(account_id=ORG, reason="unreadable COMMENT notification")


def test_notification_without_organization_belongs_to_the_given_account():
    payload = comment_notification(organizationalEntity=None)
    assert linkedin.account_ids(payload) == set()
    assert linkedin.parse(payload, account_id=ORG)[0].account_id == ORG


def test_account_ids_names_each_organization():
    payload = load_example("linkedin", "comment")
    other = copy.deepcopy(payload["notifications"][0]) | {
        "organizationalEntity": "urn:li:organization:1"
    }
    payload["notifications"].append(other)
    assert linkedin.account_ids(payload) == {ORG, "urn:li:organization:1"}


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"},
        {"notifications": {"action": "COMMENT"}},
    ],
    ids=["not an object", "no notifications", "notifications not a list"],
)
def test_malformed_envelope_is_refused(payload):
    with pytest.raises(MalformedPayload):
        linkedin.parse(payload)


# Polling


def test_polled_notifications_parse_like_the_webhook():
    polled = linkedin.parse(load_example("linkedin", "polled_notifications"))
    assert polled == linkedin.parse(load_example("linkedin", "mention"))
    assert polled[0].source == "mention"


def test_polled_comments_with_image():
    page = load_example("linkedin", "polled_comments_with_image")
    first, second = linkedin.parse_polled_comments(page, account_id=ORG, post_urn=POST)
    assert first.platform_message_id == COMMENT_URN
    assert first.text == page["elements"][0]["message"]["text"]
    assert first.attachments == ()
    assert second == InboundMessage(
        account_id=ORG,
        platform_message_id=page["elements"][1]["commentUrn"],
        source="comment",
        sender=Sender(external_id="urn:li:person:Vz8kP1nW5e"),
        timestamp=datetime(2024, 5, 31, 18, 43, 20, tzinfo=UTC),
        text="Here is what I see after reconnecting:",
        attachments=(Attachment(type="image", url="urn:li:image:D4E10AQHx7Qm2cYt9bw"),),
        thread_key=POST,
        external_thread_id=page["elements"][1]["commentUrn"],
        post_id=POST,
        post_url=f"https://www.linkedin.com/feed/update/{POST}/",
    )


def test_polled_comment_is_the_same_message_as_its_webhook_notification():
    page = load_example("linkedin", "polled_comments_with_image")
    polled = linkedin.parse_polled_comments(page, account_id=ORG, post_urn=POST)[0]
    pushed = parse_one(load_example("linkedin", "comment"))
    assert (polled.platform_message_id, polled.thread_key, polled.sender, polled.timestamp) == (
        pushed.platform_message_id,
        pushed.thread_key,
        pushed.sender,
        pushed.timestamp,
    )


def test_polled_reply_names_its_parent_comment():
    page = load_example("linkedin", "polled_comments_with_image")
    page["elements"][1]["parentComment"] = (
        "urn:li:comment:(activity:7203456790123456789,7203499988877766655)"
    )
    reply = linkedin.parse_polled_comments(page, account_id=ORG, post_urn=POST)[1]
    assert reply.reply_to_platform_id == COMMENT_URN


def test_polled_own_comment_is_ignored():
    page = load_example("linkedin", "polled_comments_with_image")
    page["elements"][0]["actor"] = ORG
    events = linkedin.parse_polled_comments(page, account_id=ORG, post_urn=POST)
    assert events[0] == Ignored(account_id=ORG, reason="organization's own comment")
    assert isinstance(events[1], InboundMessage)


def test_polled_comments_page_must_list_elements():
    with pytest.raises(MalformedPayload):
        linkedin.parse_polled_comments({"elements": "none"}, account_id=ORG, post_urn=POST)


def test_every_received_example_is_tested():
    outbound_requests = {"reply_comment_request.json"}
    tested = {
        "comment.json",
        "ignore_like.json",
        "mention.json",
        "polled_comments_with_image.json",
        "polled_notifications.json",
    }
    assert example_names("linkedin") - outbound_requests == tested
