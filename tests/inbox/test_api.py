from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assist.models import Sentiment
from inbox.models import Attachment, Conversation, Message
from integrations.models import Platform
from sla.services.clocks import sla_on_customer_message
from tests import factories

LIST_URL = "/api/v1/conversations/"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def detail_url(conversation_id: int) -> str:
    return f"{LIST_URL}{conversation_id}/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def manager():
    return factories.user(is_staff=True)


@pytest.fixture
def api(manager) -> APIClient:
    return client_for(manager)


def listed_ids(client: APIClient, **params) -> list[int]:
    response = client.get(LIST_URL, params)
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def conversation_at(minutes: int, **overrides) -> Conversation:
    """A conversation whose newest activity is `minutes` after T0."""
    return factories.conversation(now=T0 + timedelta(minutes=minutes), **overrides)


# --- Authentication -------------------------------------------------------------------------


def test_request_without_credentials_is_refused_with_401():
    response = APIClient().get(LIST_URL)

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
    }
    assert response.headers["WWW-Authenticate"] == "Token"


def test_unknown_token_is_refused_with_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get(LIST_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_token_from_drf_create_token_authenticates(manager):
    conversation = factories.conversation()
    out = StringIO()
    call_command("drf_create_token", manager.username, stdout=out)
    key = out.getvalue().split()[2]  # "Generated token <key> for user <name>"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert listed_ids(client) == [conversation.id]


def test_session_login_authenticates(manager):
    conversation = factories.conversation()
    client = APIClient()
    client.force_login(manager)

    assert listed_ids(client) == [conversation.id]


def test_other_drf_errors_use_the_code_and_message_shape(api):
    response = api.post(LIST_URL, {})

    assert response.status_code == 405
    assert response.json() == {
        "code": "method_not_allowed",
        "message": 'Method "POST" not allowed.',
    }


# --- List: item shape -----------------------------------------------------------------------


def test_list_item_shows_conversation_with_its_newest_message(api):
    agent = factories.user(username="ana")
    channel = factories.channel(platform=Platform.INSTAGRAM, name="Acme IG")
    customer = factories.customer(display_name="Jo")
    factories.identity(
        customer=customer,
        platform=Platform.INSTAGRAM,
        external_id="ig-1",
        handle="jo.ig",
        display_name="Jo Insta",
        avatar_url="https://cdn.example.com/jo.jpg",
    )
    conversation = factories.conversation(
        channel=channel,
        customer=customer,
        source=Conversation.Source.COMMENT,
        status=Conversation.Status.PENDING,
        priority=Conversation.Priority.HIGH,
        assignee=agent,
        language="en",
        sentiment="negative",
        crm_contact_id="crm-9",
        post_id="post-1",
        post_url="https://instagram.com/p/post-1",
        now=T0,
        first_response_at=T0 + timedelta(minutes=5),
    )
    conversation.tags.add(factories.tag(name="vip"), factories.tag(name="billing"))
    long_text = "x" * 150 + "y" * 150
    newest = factories.message(
        conversation=conversation, content=long_text, now=T0 + timedelta(minutes=9)
    )
    # Created later but older: the preview follows the message time, not insertion order.
    factories.message(conversation=conversation, content="older", now=T0 + timedelta(minutes=1))

    response = api.get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": conversation.id,
            "channel": {"id": channel.id, "platform": "instagram", "name": "Acme IG"},
            "customer": {
                "id": customer.id,
                "display_name": "Jo",
                "identities": [
                    {
                        "platform": "instagram",
                        "external_id": "ig-1",
                        "handle": "jo.ig",
                        "display_name": "Jo Insta",
                        "avatar_url": "https://cdn.example.com/jo.jpg",
                    }
                ],
            },
            "source": "comment",
            "status": "pending",
            "priority": "high",
            "assignee": {"id": agent.id, "username": "ana"},
            "tags": ["billing", "vip"],
            "language": "en",
            "sentiment": "negative",
            "crm_contact_id": "crm-9",
            "post_id": "post-1",
            "post_url": "https://instagram.com/p/post-1",
            "created_at": "2026-11-20T10:00:00Z",
            "updated_at": "2026-11-20T10:00:00Z",
            "last_message_at": "2026-11-20T10:00:00Z",
            "first_response_at": "2026-11-20T10:05:00Z",
            "resolved_at": None,
            "last_message": {
                "id": newest.id,
                "direction": "in",
                "sender_type": "customer",
                "content": long_text[:200],
                "created_at": "2026-11-20T10:09:00Z",
            },
            # No SLA policy applies: no target is tracked.
            "sla": {"first_response": None, "next_response": None, "resolution": None},
        }
    ]


def test_each_list_item_previews_its_own_newest_message(api):
    first, second = conversation_at(0), conversation_at(1)
    factories.message(conversation=first, content="first old", now=T0)
    factories.message(conversation=first, content="first new", now=T0 + timedelta(minutes=5))
    factories.message(conversation=second, content="second new", now=T0 + timedelta(minutes=2))
    factories.message(conversation=second, content="second old", now=T0 + timedelta(minutes=1))

    items = api.get(LIST_URL).json()["results"]

    assert [(i["id"], i["last_message"]["content"]) for i in items] == [
        (second.id, "second new"),
        (first.id, "first new"),
    ]


def test_list_item_without_messages_or_assignee_shows_null(api):
    factories.conversation()

    (item,) = api.get(LIST_URL).json()["results"]

    assert item["last_message"] is None
    assert item["assignee"] is None


# --- List: ordering and pagination ----------------------------------------------------------


def test_list_is_newest_activity_first_with_ties_broken_by_newest_id(api):
    old = conversation_at(0)
    tied_first = conversation_at(5)
    tied_second = conversation_at(5)
    newest = conversation_at(10)

    assert listed_ids(api) == [newest.id, tied_second.id, tied_first.id, old.id]


def test_cursor_pages_cover_every_conversation_once(api):
    # Ties on the cursor's timestamp straddle the page boundaries on purpose.
    conversations = [conversation_at(minutes) for minutes in (0, 1, 1, 1, 2, 2, 3)]
    expected = [
        c.id for c in sorted(conversations, key=lambda c: (c.last_message_at, c.id), reverse=True)
    ]

    seen: list[int] = []
    response = api.get(LIST_URL, {"page_size": 2})
    pages = 1
    while response.json()["next"]:
        seen += [item["id"] for item in response.json()["results"]]
        response = api.get(response.json()["next"])
        pages += 1
    seen += [item["id"] for item in response.json()["results"]]

    assert seen == expected
    assert pages == 4


def test_previous_link_returns_the_earlier_page(api):
    for minutes in range(5):
        conversation_at(minutes)
    first = api.get(LIST_URL, {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    back = api.get(second["previous"]).json()

    assert back["results"] == first["results"]


def test_default_page_holds_fifty_conversations(api):
    for minutes in range(51):
        conversation_at(minutes)

    body = api.get(LIST_URL).json()

    assert len(body["results"]) == 50
    assert body["next"] is not None


@pytest.mark.parametrize("page_size", [1, 100])
def test_page_size_bounds_are_accepted(api, page_size):
    for minutes in range(3):
        conversation_at(minutes)

    assert len(listed_ids(api, page_size=page_size)) == min(page_size, 3)


@pytest.mark.parametrize("page_size", ["0", "101", "-1", "ten", "2.5", ""])
def test_page_size_out_of_range_or_not_a_number_is_refused(api, page_size):
    response = api.get(LIST_URL, {"page_size": page_size})

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "page_size: Enter a whole number from 1 to 100.",
        "errors": {"page_size": ["Enter a whole number from 1 to 100."]},
    }


def test_malformed_cursor_is_refused(api):
    response = api.get(LIST_URL, {"cursor": "garbage"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor"]}


# --- List: filters --------------------------------------------------------------------------


def test_filter_by_platform(api):
    telegram = conversation_at(0, channel=factories.channel(platform=Platform.TELEGRAM))
    conversation_at(1, channel=factories.channel(platform=Platform.FACEBOOK))

    assert listed_ids(api, platform="telegram") == [telegram.id]


def test_filter_by_channel(api):
    wanted = conversation_at(0)
    conversation_at(1)

    assert listed_ids(api, channel=wanted.channel_id) == [wanted.id]


@pytest.mark.parametrize(
    ("param", "wanted", "other"),
    [
        ("status", Conversation.Status.RESOLVED, Conversation.Status.OPEN),
        ("priority", Conversation.Priority.URGENT, Conversation.Priority.LOW),
        ("source", Conversation.Source.MENTION, Conversation.Source.DM),
        ("sentiment", Sentiment.NEGATIVE, Sentiment.POSITIVE),
    ],
)
def test_filter_by_choice_field(api, param, wanted, other):
    match = conversation_at(0, **{param: wanted})
    conversation_at(1, **{param: other})

    assert listed_ids(api, **{param: wanted.value}) == [match.id]


def test_filter_by_language(api):
    italian = conversation_at(0, language="it")
    conversation_at(1, language="en")

    assert listed_ids(api, language="it") == [italian.id]


def test_filter_by_assignee_id(api):
    agent = factories.user()
    assigned = conversation_at(0, assignee=agent)
    conversation_at(1, assignee=factories.user())
    conversation_at(2)

    assert listed_ids(api, assignee=agent.id) == [assigned.id]


def test_filter_assignee_none_lists_unassigned(api):
    unassigned = conversation_at(0)
    conversation_at(1, assignee=factories.user())

    assert listed_ids(api, assignee="none") == [unassigned.id]


def test_filter_by_tag_name(api):
    vip = factories.tag(name="vip")
    tagged = conversation_at(0)
    tagged.tags.add(vip, factories.tag(name="billing"))
    conversation_at(1).tags.add(factories.tag(name="vipish"))

    assert listed_ids(api, tag="vip") == [tagged.id]


@pytest.mark.parametrize(
    "since", ["2026-11-20T10:05:00Z", "2026-11-20T10:05:00+00:00", "2026-11-20T11:05:00+01:00"]
)
def test_filter_updated_since_includes_the_boundary(api, since):
    conversation_at(4)
    at_boundary = conversation_at(5)
    later = conversation_at(6)

    assert listed_ids(api, updated_since=since) == [later.id, at_boundary.id]


def test_filters_combine(api):
    agent = factories.user()
    match = conversation_at(0, assignee=agent, status=Conversation.Status.OPEN)
    conversation_at(1, assignee=agent, status=Conversation.Status.CLOSED)
    conversation_at(2, status=Conversation.Status.OPEN)

    assert listed_ids(api, assignee=agent.id, status="open") == [match.id]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "unknown"),
        ("priority", "meh"),
        ("source", "fax"),
        ("platform", "myspace"),
        ("channel", "abc"),
        ("channel", "1.5"),
        ("assignee", "nobody"),
        ("updated_since", "yesterday"),
        ("updated_since", "2026-13-01T00:00:00Z"),
    ],
)
def test_invalid_filter_value_is_refused_with_the_reason(api, param, value):
    conversation_at(0)

    response = api.get(LIST_URL, {param: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [param]
    assert body["message"].startswith(f"{param}: ")


# --- Visibility -----------------------------------------------------------------------------


def test_agent_lists_only_conversations_assigned_to_them():
    agent = factories.user()
    mine = conversation_at(0, assignee=agent)
    conversation_at(1, assignee=factories.user())
    conversation_at(2)

    assert listed_ids(client_for(agent)) == [mine.id]


def test_staff_list_every_conversation(api):
    assigned = conversation_at(0, assignee=factories.user())
    unassigned = conversation_at(1)

    assert listed_ids(api) == [unassigned.id, assigned.id]


def test_agent_filtering_by_another_assignee_sees_nothing():
    agent, colleague = factories.user(), factories.user()
    conversation_at(0, assignee=colleague)

    assert listed_ids(client_for(agent), assignee=colleague.id) == []


def test_conversation_of_someone_else_answers_404_like_an_unknown_id():
    agent = factories.user()
    client = client_for(agent)
    hidden = conversation_at(0, assignee=factories.user())
    unknown_id = hidden.id + 1000

    hidden_response = client.get(detail_url(hidden.id))
    unknown_response = client.get(detail_url(unknown_id))

    assert hidden_response.status_code == unknown_response.status_code == 404
    assert hidden_response.json() == unknown_response.json()
    assert hidden_response.json()["code"] == "not_found"


def test_agent_retrieves_a_conversation_assigned_to_them():
    agent = factories.user()
    mine = conversation_at(0, assignee=agent)

    response = client_for(agent).get(detail_url(mine.id))

    assert response.status_code == 200
    assert response.json()["id"] == mine.id


def test_detail_without_credentials_is_refused_with_401():
    conversation = conversation_at(0)

    assert APIClient().get(detail_url(conversation.id)).status_code == 401


# --- Detail ---------------------------------------------------------------------------------


def test_detail_has_the_list_fields_plus_messages_and_notes(api):
    conversation = conversation_at(0)
    factories.message(conversation=conversation)

    detail = api.get(detail_url(conversation.id)).json()
    (item,) = api.get(LIST_URL).json()["results"]

    assert {key: value for key, value in detail.items() if key not in ("messages", "notes")} == item
    assert set(detail) - set(item) == {"messages", "notes"}


def test_detail_lists_messages_oldest_first_with_attachments(api):
    agent = factories.user(username="ana")
    conversation = conversation_at(0)
    reply = factories.message(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_type=Message.SenderType.AGENT,
        author=agent,
        content="We're on it",
        platform_message_id=None,
        delivery_status=Message.DeliveryStatus.FAILED,
        failure_reason="Outside the 24-hour window",
        now=T0 + timedelta(minutes=2),
    )
    question = factories.message(
        conversation=conversation,
        content="Photo of the damage",
        content_type=Message.ContentType.IMAGE,
        platform_message_id="m-q",
        reply_to_platform_id="m-0",
        platform_timestamp=T0,
        now=T0 + timedelta(minutes=1),
    )
    factories.attachment(
        message=question,
        type=Attachment.Type.IMAGE,
        url="https://cdn.example.com/a.jpg",
        name="a.jpg",
    )
    factories.attachment(
        message=question, type=Attachment.Type.FILE, url="tg-file:XYZ", name="receipt.pdf"
    )

    messages = api.get(detail_url(conversation.id)).json()["messages"]

    assert [m["id"] for m in messages] == [question.id, reply.id]
    assert messages[0] == {
        "id": question.id,
        "direction": "in",
        "sender_type": "customer",
        "author": None,
        "content": "Photo of the damage",
        "content_type": "image",
        "attachments": [
            {"type": "image", "url": "https://cdn.example.com/a.jpg", "name": "a.jpg"},
            {"type": "file", "url": "tg-file:XYZ", "name": "receipt.pdf"},
        ],
        "platform_message_id": "m-q",
        "reply_to_platform_id": "m-0",
        "delivery_status": "sent",
        "failure_reason": "",
        "platform_timestamp": "2026-11-20T10:00:00Z",
        "created_at": "2026-11-20T10:01:00Z",
        "edited_at": None,
        "deleted_at": None,
    }
    assert messages[1]["author"] == {"id": agent.id, "username": "ana"}
    assert messages[1]["platform_message_id"] is None
    assert (messages[1]["delivery_status"], messages[1]["failure_reason"]) == (
        "failed",
        "Outside the 24-hour window",
    )
    assert messages[1]["attachments"] == []


def test_detail_lists_notes_with_their_authors(api):
    agent = factories.user(username="ana")
    conversation = conversation_at(0)
    first = factories.note(conversation=conversation, author=agent, body="Refund approved")
    second = factories.note(conversation=conversation, author=None, body="Author left")

    notes = api.get(detail_url(conversation.id)).json()["notes"]

    assert [(n["id"], n["author"], n["body"]) for n in notes] == [
        (first.id, {"id": agent.id, "username": "ana"}, "Refund approved"),
        (second.id, None, "Author left"),
    ]
    assert notes[0]["created_at"]


# --- Bounded SQL ----------------------------------------------------------------------------


def busy_conversation(minutes: int, *, agent) -> Conversation:
    """A conversation with every kind of related row the API shows."""
    conversation = conversation_at(minutes, assignee=agent)
    factories.identity(customer=conversation.customer)
    factories.identity(customer=conversation.customer)
    conversation.tags.add(factories.tag(), factories.tag())
    for offset in range(3):
        message = factories.message(
            conversation=conversation,
            author=agent,
            now=T0 + timedelta(minutes=minutes, seconds=offset),
        )
        factories.attachment(message=message)
    factories.note(conversation=conversation, author=agent)
    return conversation


@pytest.mark.parametrize("rows", [1, 12])
def test_list_query_count_does_not_grow_with_rows(api, rows, django_assert_max_num_queries):
    agent = factories.user()
    calendar = factories.business_calendar()
    factories.sla_policy(is_default=True, business_hours=True, calendar=calendar)
    for minutes in range(rows):
        sla_on_customer_message(conversation_id=busy_conversation(minutes, agent=agent).id, at=T0)

    # Token, conversations (with channel, customer, assignee), identities, tags, newest
    # messages, SLA clocks (with policy and calendar), the calendars' intervals and holidays.
    with django_assert_max_num_queries(8):
        response = api.get(LIST_URL)

    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("messages", [1, 15])
def test_detail_query_count_does_not_grow_with_messages(
    api, messages, django_assert_max_num_queries
):
    agent = factories.user()
    factories.sla_policy(is_default=True)
    conversation = busy_conversation(0, agent=agent)
    sla_on_customer_message(conversation_id=conversation.id, at=T0)
    for _ in range(messages):
        factories.attachment(message=factories.message(conversation=conversation, author=agent))
        factories.note(conversation=conversation, author=agent)

    # The list's eight, plus messages (with authors), their attachments and notes (with authors).
    with django_assert_max_num_queries(11):
        response = api.get(detail_url(conversation.id))

    assert len(response.json()["messages"]) == 3 + messages


# --- OpenAPI --------------------------------------------------------------------------------


def test_schema_documents_the_conversation_endpoints():
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/conversations/" in paths
    assert "/api/v1/conversations/{id}/" in paths
    parameters = {p["name"] for p in paths["/api/v1/conversations/"]["get"]["parameters"]}
    assert parameters >= {
        "platform",
        "channel",
        "status",
        "priority",
        "source",
        "assignee",
        "tag",
        "updated_since",
        "cursor",
        "page_size",
    }


def test_schema_of_the_conversation_views_generates_without_warnings():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("inbox.api_urls"))])

    generator.get_schema(request=None, public=True)

    assert not GENERATOR_STATS, dict(GENERATOR_STATS._warn_cache) | dict(
        GENERATOR_STATS._error_cache
    )
