"""The webhook endpoints: handshakes, signatures, answers, storage and processing."""

import json

import pytest
from django.urls import reverse

from inbox.models import Message
from integrations.models import Platform, WebhookEvent
from integrations.platforms import adapter_for
from tests import factories
from tests.integrations.platform_fixtures import example_names, load_example, load_vectors

# Real commits: processing is enqueued on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

META_PAGE_ID = "104857362918473"
META_IG_ID = "17841400987654321"
X_USER_ID = "1517369840123456512"
LINKEDIN_ORG = "urn:li:organization:81234567"


def post(client, url, body: bytes, headers: dict | None = None):
    return client.post(url, data=body, content_type="application/json", headers=headers or {})


def signed_post(client, platform: str, body: bytes, *, url: str | None = None, secret: str | None = None):
    secret = factories.SECRETS[platform] if secret is None else secret
    headers = adapter_for(platform).signature_headers(body=body, secret=secret)
    return post(client, url or reverse("webhooks:app", kwargs={"platform": platform}), body, headers)


@pytest.fixture
def meta_page():
    return factories.channel(platform=Platform.FACEBOOK, account_id=META_PAGE_ID)


@pytest.fixture
def telegram():
    return factories.channel(platform=Platform.TELEGRAM, account_id="7012345678")


def telegram_url(channel) -> str:
    return reverse("webhooks:telegram", kwargs={"channel_id": channel.pk})


# --- handshakes ---------------------------------------------------------------------------


def test_meta_handshake_echoes_the_challenge_for_the_right_token(client, meta_page):
    response = client.get("/webhooks/facebook/", {"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                                  "hub.challenge": "1158201444"})
    assert response.status_code == 200
    assert response.content == b"1158201444"


def test_meta_handshake_refuses_a_wrong_token(client, meta_page):
    response = client.get("/webhooks/facebook/", {"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                  "hub.challenge": "1"})
    assert response.status_code == 403


@pytest.mark.parametrize("vector", [v for v in load_vectors("x")["crc"] if v["valid"]])
def test_x_crc_answers_with_the_signed_token(client, vector):
    factories.channel(platform=Platform.X, account_id=X_USER_ID, app_secret=vector["consumer_secret"])
    response = client.get("/webhooks/x/", {"crc_token": vector["crc_token"]})
    assert response.status_code == 200
    assert response.json() == vector["expected_response_body"]


@pytest.mark.parametrize("vector", [v for v in load_vectors("linkedin")["challenge"] if v["valid"]])
def test_linkedin_challenge_is_answered(client, vector):
    factories.channel(platform=Platform.LINKEDIN, account_id=LINKEDIN_ORG, app_secret=vector["client_secret"])
    response = client.get("/webhooks/linkedin/", {"challengeCode": vector["challengeCode"]})
    assert response.status_code == 200
    assert response.json() == vector["expected_response_body"]


# --- signatures over the exact bytes, from the platforms' vectors -------------------------


def _vector_cases():
    for vector in load_vectors("meta"):
        platform = Platform.INSTAGRAM if '"object":"instagram"' in vector["body"] else Platform.FACEBOOK
        yield pytest.param(platform, vector["secret"], vector["body"], {"X-Hub-Signature-256": vector["header"]},
                           vector["valid"], id=f"meta-{vector['name']}")
    for vector in load_vectors("x")["body_signature"]:
        headers = {"x-twitter-webhooks-signature": vector["header"]} if vector["header"] else {}
        yield pytest.param(Platform.X, vector["consumer_secret"], vector["body"], headers, vector["valid"],
                           id=f"x-{vector['case']}")
    for vector in load_vectors("linkedin")["body_signature"]:
        headers = {"X-LI-Signature": vector["header"]} if vector["header"] else {}
        yield pytest.param(Platform.LINKEDIN, vector["client_secret"], vector["body"], headers, vector["valid"],
                           id=f"linkedin-{vector['case']}")


ACCOUNTS = {Platform.FACEBOOK: META_PAGE_ID, Platform.INSTAGRAM: META_IG_ID, Platform.X: X_USER_ID,
            Platform.LINKEDIN: LINKEDIN_ORG}


@pytest.mark.parametrize(("platform", "secret", "body", "headers", "valid"), list(_vector_cases()))
def test_signature_vectors_decide_acceptance(client, platform, secret, body, headers, valid):
    factories.channel(platform=platform, account_id=ACCOUNTS[platform], app_secret=secret)
    response = post(client, f"/webhooks/{platform}/", body.encode(), headers)
    if valid:
        assert response.status_code == 200, response.content
        event = WebhookEvent.objects.get()
        assert event.body.encode() == body.encode()  # the exact bytes, for replays and audits
        assert event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED)
    else:
        assert response.status_code == 401
        assert response.json()["code"] == "bad_signature"
        assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("case", load_vectors("telegram")["cases"], ids=lambda case: case["case"])
def test_telegram_secret_token_vectors(client, case):
    channel = factories.channel(platform=Platform.TELEGRAM, app_secret=case["configured_secret"])
    body = json.dumps(load_example("telegram", "dm_text")).encode()
    headers = {} if case["header"] is None else {"X-Telegram-Bot-Api-Secret-Token": case["header"]}
    response = post(client, telegram_url(channel), body, headers)
    assert response.status_code == (200 if case["valid"] else 401)
    assert WebhookEvent.objects.count() == (1 if case["valid"] else 0)


def test_a_channel_cannot_post_events_for_another_apps_account(client, meta_page):
    """A delivery signed with app A's secret that names app B's Page is not B's."""
    factories.channel(platform=Platform.FACEBOOK, account_id="999", app_secret="other-apps-secret")
    body = json.dumps(load_example("meta", "messenger_text")).encode()
    response = signed_post(client, Platform.FACEBOOK, body, secret="other-apps-secret")
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


# --- every example, end to end ------------------------------------------------------------

WEBHOOK_EXAMPLES = {
    "meta": [name for name in sorted(example_names("meta"))],
    "x": sorted(example_names("x")),
    "linkedin": ["comment.json", "mention.json", "ignore_like.json"],
    "telegram": ["dm_text.json", "dm_photo.json", "group_mention.json", "ignore_edited_message.json",
                 "ignore_my_chat_member.json"],
}


def _example_channels(folder: str, payload: dict):
    if folder == "meta":
        platform = Platform.INSTAGRAM if payload["object"] == "instagram" else Platform.FACEBOOK
        for entry in payload["entry"]:
            factories.channel(platform=platform, account_id=entry["id"])
        return platform, None
    if folder == "x":
        factories.channel(platform=Platform.X, account_id=X_USER_ID)
        return Platform.X, None
    if folder == "linkedin":
        factories.channel(platform=Platform.LINKEDIN, account_id=LINKEDIN_ORG)
        return Platform.LINKEDIN, None
    return Platform.TELEGRAM, telegram_url(factories.channel(platform=Platform.TELEGRAM))


@pytest.mark.parametrize(
    ("folder", "name"), [(folder, name) for folder, names in WEBHOOK_EXAMPLES.items() for name in names]
)
def test_every_example_delivery_is_accepted_and_processed(client, folder, name):
    payload = load_example(folder, name)
    platform, url = _example_channels(folder, payload)
    response = signed_post(client, platform, json.dumps(payload).encode(), url=url)
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert event.error == ""
    # Receipts and edits for messages this inbox never stored change nothing.
    changes_nothing = name.startswith("ignore") or name in ("messenger_delivery.json", "messenger_read.json")
    assert event.status == (WebhookEvent.Status.IGNORED if changes_nothing else WebhookEvent.Status.PROCESSED)
    customer_messages = Message.objects.filter(direction=Message.Direction.INBOUND)
    if name.startswith("ignore") or any(word in name for word in ("echo", "delivery", "read", "sent_by_brand")):
        assert not customer_messages.exists()
    else:
        assert customer_messages.exists()


def test_echo_is_not_shown_as_a_customer_message(client):
    payload = load_example("meta", "messenger_echo")
    factories.channel(platform=Platform.FACEBOOK, account_id=META_PAGE_ID)
    signed_post(client, Platform.FACEBOOK, json.dumps(payload).encode())
    message = Message.objects.get()
    assert (message.direction, message.sender_type) == (Message.Direction.OUTBOUND, Message.SenderType.AGENT)


def test_batched_delivery_reaches_each_pages_inbox(client):
    payload = load_example("meta", "batched")
    pages = [factories.channel(platform=Platform.FACEBOOK, account_id=entry["id"]) for entry in payload["entry"]]
    signed_post(client, Platform.FACEBOOK, json.dumps(payload).encode())
    for page in pages:
        assert Message.objects.filter(channel=page).exists()


def test_redelivered_webhook_is_logged_twice_but_stored_as_one_message(client, meta_page):
    body = json.dumps(load_example("meta", "messenger_text")).encode()
    signed_post(client, Platform.FACEBOOK, body)
    signed_post(client, Platform.FACEBOOK, body)
    assert WebhookEvent.objects.count() == 2
    assert Message.objects.count() == 1


# --- bad input ----------------------------------------------------------------------------


def test_malformed_json_is_400_and_not_stored(client, meta_page):
    response = signed_post(client, Platform.FACEBOOK, b'{"object": "page", "entry": [')
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"
    assert not WebhookEvent.objects.exists()


def test_json_that_is_not_an_object_is_400(client, meta_page):
    assert signed_post(client, Platform.FACEBOOK, b"[1, 2]").status_code == 400


def test_body_over_one_megabyte_is_413(client, meta_page):
    body = b'{"object":"page","pad":"' + b"x" * (1024 * 1024) + b'"}'
    response = signed_post(client, Platform.FACEBOOK, body)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_unknown_account_is_404(client, meta_page):
    payload = load_example("meta", "messenger_text")
    payload["entry"][0]["id"] = "123"
    assert signed_post(client, Platform.FACEBOOK, json.dumps(payload).encode()).status_code == 404


def test_inactive_channel_is_404(client, telegram):
    telegram.is_active = False
    telegram.save()
    body = json.dumps(load_example("telegram", "dm_text")).encode()
    assert signed_post(client, Platform.TELEGRAM, body, url=telegram_url(telegram)).status_code == 404


def test_unknown_telegram_channel_and_unknown_platform_are_404(client):
    assert post(client, "/webhooks/telegram/999/", b"{}").status_code == 404
    assert post(client, "/webhooks/myspace/", b"{}").status_code == 404


def test_other_methods_are_405(client, telegram, meta_page):
    assert client.put("/webhooks/facebook/").status_code == 405
    assert client.get(telegram_url(telegram)).status_code == 405


def test_unknown_event_type_is_stored_and_ignored(client, meta_page):
    payload = {"object": "page", "entry": [{"id": META_PAGE_ID, "time": 1, "messaging": [
        {"sender": {"id": "1"}, "recipient": {"id": META_PAGE_ID}, "timestamp": 1, "some_future_event": {}}]}]}
    response = signed_post(client, Platform.FACEBOOK, json.dumps(payload).encode())
    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.IGNORED


def test_deactivating_a_channel_applies_to_the_next_delivery(client, meta_page):
    body = json.dumps(load_example("meta", "messenger_text")).encode()
    assert signed_post(client, Platform.FACEBOOK, body).status_code == 200
    meta_page.is_active = False
    meta_page.save()
    assert signed_post(client, Platform.FACEBOOK, body).status_code == 404


def test_a_rotated_secret_applies_to_the_next_delivery(client, meta_page):
    body = json.dumps(load_example("meta", "messenger_text")).encode()
    assert signed_post(client, Platform.FACEBOOK, body).status_code == 200
    meta_page.app_secret = "rotated-secret"
    meta_page.save()
    assert signed_post(client, Platform.FACEBOOK, body).status_code == 401
    assert signed_post(client, Platform.FACEBOOK, body, secret="rotated-secret").status_code == 200
