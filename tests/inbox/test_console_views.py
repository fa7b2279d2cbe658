"""The console's pages and htmx fragments: who sees what, which partial an htmx request gets,
filters and search, and that customer text is rendered as text."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import Conversation
from inbox.services import message_ingest
from integrations.platforms.base import Sender
from tests import factories

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def htmx(client: Client, url: str, target: str, **params):
    return client.get(url, params, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)


def page_url(conversation: Conversation) -> str:
    return f"/console/conversations/{conversation.pk}/"


def listed_ids(response) -> list[int]:
    return [
        int(found) for found in re.findall(r'id="conversation-(\d+)"', response.content.decode())
    ]


# --- Signing in -------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_sign_in_page():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_anonymous_htmx_request_is_told_to_load_the_sign_in_page(desk):
    response = htmx(Client(), page_url(desk.ours), "thread-1")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/console/login/")


def test_signing_in_opens_the_inbox(desk):
    factories.user(username="ana", password="s3cret-pass")
    response = Client().post("/console/login/", {"username": "ana", "password": "s3cret-pass"})
    assert response.status_code == 302
    assert response["Location"] == "/"


# --- Who sees what ----------------------------------------------------------------------


def test_agent_sees_their_teams_conversations_only(desk):
    response = client_for(desk.agent.user).get("/", {"view": "teams"})
    assert listed_ids(response) == [desk.ours.pk]
    assert "Hidden Customer" not in response.content.decode()


def test_manager_sees_every_conversation_in_all(desk):
    response = client_for(desk.manager).get("/", {"view": "all"})
    assert sorted(listed_ids(response)) == sorted([desk.ours.pk, desk.theirs.pk])


def test_agent_cannot_choose_the_all_view(desk):
    response = client_for(desk.agent.user).get("/", {"view": "all"})
    assert 'value="all"' not in response.content.decode()
    assert listed_ids(response) == []  # the default view: Mine, and nothing is assigned to them


def test_agent_sees_a_conversation_of_another_team_assigned_to_them(desk):
    Conversation.objects.filter(pk=desk.theirs.pk).update(assignee=desk.agent.user)
    response = client_for(desk.agent.user).get("/", {"view": "mine"})
    assert listed_ids(response) == [desk.theirs.pk]


@pytest.mark.parametrize(
    "path",
    [
        "/console/conversations/{id}/",
        "/console/conversations/{id}/row/",
        "/console/conversations/{id}/messages/{message}/",
    ],
)
def test_agent_gets_404_for_a_conversation_of_another_team(desk, path):
    message = desk.theirs.messages.get()
    url = path.format(id=desk.theirs.pk, message=message.pk)
    client = client_for(desk.agent.user)
    assert client.get(url).status_code == 404
    assert htmx(client, url, f"thread-{desk.theirs.pk}").status_code == 404


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("status", {"status": "resolved"}),
        ("priority", {"priority": "urgent"}),
        ("tags", {}),
        ("notes", {"body": "hello"}),
        ("replies", {"text": "hi", "client_token": "9f0c3c52-2b7a-4a59-a4c1-0d1a3b4c5d6e"}),
        ("read", {}),
    ],
)
def test_agent_gets_404_acting_on_a_conversation_of_another_team(desk, action, data):
    response = client_for(desk.agent.user).post(f"{page_url(desk.theirs)}{action}/", data)
    assert response.status_code == 404
    desk.theirs.refresh_from_db()
    assert (desk.theirs.status, desk.theirs.priority) == ("open", "medium")
    assert not desk.theirs.notes.exists()


# --- Pages and partials -----------------------------------------------------------------


def test_inbox_page_is_a_whole_page_with_the_list(desk):
    response = client_for(desk.agent.user).get("/", {"view": "teams"})
    body = response.content.decode()
    assert body.startswith("<!doctype html>")
    assert 'id="conversation-list"' in body


def test_htmx_list_request_gets_the_list_partial_only(desk):
    response = htmx(client_for(desk.agent.user), "/", "conversation-list", view="teams")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="conversation-list"')
    assert "<html" not in body
    assert listed_ids(response) == [desk.ours.pk]


@pytest.mark.parametrize(
    ("target", "root"),
    [
        ("conversation-pane", '<section id="conversation-pane"'),
        ("thread-{id}", '<div id="thread-{id}"'),
        ("conversation-header-{id}", '<header id="conversation-header-{id}"'),
        ("customer-panel-{id}", '<aside id="customer-panel-{id}"'),
        ("composer-{id}", '<section id="composer-{id}"'),
    ],
)
def test_htmx_request_gets_the_fragment_it_targets(desk, target, root):
    conversation_id = desk.ours.pk
    response = htmx(
        client_for(desk.agent.user), page_url(desk.ours), target.format(id=conversation_id)
    )
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith(root.format(id=conversation_id))


def test_conversation_page_shows_thread_notes_and_customer(desk):
    factories.note(conversation=desk.ours, author=desk.agent.user, body="@lee can you check?")
    factories.identity(customer=desk.ours.customer, platform="instagram", handle="olivia.b")
    body = client_for(desk.agent.user).get(page_url(desk.ours)).content.decode()
    assert "Where is my order?" in body
    assert '<span class="mention">@lee</span> can you check?' in body
    assert "@olivia.b" in body


def test_customer_panel_lists_only_earlier_conversations_the_agent_may_see(desk):
    customer = desk.ours.customer
    visible = factories.conversation(
        channel=desk.channel, customer=customer, status="resolved", thread_key="x"
    )
    hidden = factories.conversation(channel=desk.other_channel, customer=customer)
    response = htmx(
        client_for(desk.agent.user), page_url(desk.ours), f"customer-panel-{desk.ours.pk}"
    )
    body = response.content.decode()
    assert page_url(visible) in body
    assert page_url(hidden) not in body


def test_row_partial_keeps_the_lists_query_in_its_link(desk):
    response = htmx(
        client_for(desk.agent.user),
        f"{page_url(desk.ours)}row/",
        f"conversation-{desk.ours.pk}",
        view="teams",
    )
    assert f'href="{page_url(desk.ours)}?view=teams"' in response.content.decode()


def test_message_partial_shows_the_delivery_status(desk):
    reply = factories.message(
        conversation=desk.ours,
        direction="out",
        sender_type="agent",
        delivery_status="failed",
        failure_reason="Token expired",
    )
    response = htmx(
        client_for(desk.agent.user),
        f"{page_url(desk.ours)}messages/{reply.pk}/",
        f"message-{reply.pk}",
    )
    body = response.content.decode()
    assert 'data-status="failed"' in body
    assert "Not sent: Token expired" in body
    assert f"messages/{reply.pk}/resend/" in body


# --- Filters, search, sort, unread --------------------------------------------------------


@pytest.fixture
def many(desk):
    """Three more conversations of team A: a resolved one, a comment, an urgent one."""
    resolved = factories.conversation(channel=desk.channel, status="resolved", thread_key="r")
    comment = factories.conversation(channel=desk.channel, source="comment", thread_key="post-9")
    urgent = factories.conversation(channel=desk.channel, priority="urgent", thread_key="u")
    return {"resolved": resolved, "comment": comment, "urgent": urgent}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "resolved"}, ["resolved"]),
        ({"source": "comment"}, ["comment"]),
        ({"priority": "urgent"}, ["urgent"]),
    ],
)
def test_filters_narrow_the_list(desk, many, params, expected):
    response = client_for(desk.agent.user).get("/", {"view": "teams", **params})
    assert listed_ids(response) == [many[name].pk for name in expected]


def test_default_status_filter_hides_resolved_and_any_shows_them(desk, many):
    client = client_for(desk.agent.user)
    assert many["resolved"].pk not in listed_ids(client.get("/", {"view": "teams"}))
    assert many["resolved"].pk in listed_ids(client.get("/", {"view": "teams", "status": "any"}))


def test_invalid_filter_values_fall_back_to_defaults(desk):
    response = client_for(desk.agent.user).get(
        "/", {"view": "teams", "status": "bogus", "page": "x"}
    )
    assert response.status_code == 200
    assert listed_ids(response) == [desk.ours.pk]


@pytest.mark.parametrize("text", ["olivia", "@olivia_b", "ORDER?"])
def test_search_matches_name_handle_and_message_text(desk, text):
    factories.identity(customer=desk.ours.customer, handle="olivia_b")
    factories.conversation(channel=desk.channel, thread_key="other")
    response = client_for(desk.agent.user).get("/", {"view": "teams", "q": text})
    assert listed_ids(response) == [desk.ours.pk]


def test_unread_count_drops_once_the_conversation_is_read(desk):
    factories.message(conversation=desk.ours, content="Hello?")
    client = client_for(desk.agent.user)
    row = htmx(
        client, f"{page_url(desk.ours)}row/", f"conversation-{desk.ours.pk}"
    ).content.decode()
    assert '<span class="unread" title="Unread messages">2</span>' in row

    response = client.post(f"{page_url(desk.ours)}read/", HTTP_HX_REQUEST="true")

    assert response.status_code == 204
    assert "conversation-read" in response["HX-Trigger"]
    row = htmx(
        client, f"{page_url(desk.ours)}row/", f"conversation-{desk.ours.pk}"
    ).content.decode()
    assert 'class="unread"' not in row


def test_list_costs_the_same_queries_for_any_number_of_rows(desk):
    client = client_for(desk.manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert htmx(client, "/", "conversation-list", view="all").status_code == 200
        return len(captured)

    few = queries()
    for number in range(20):
        conversation = factories.conversation(channel=desk.channel, thread_key=f"t{number}")
        factories.message(conversation=conversation)
        conversation.tags.add(factories.tag())
        factories.identity(customer=conversation.customer)
    assert queries() == few


def test_conversation_page_costs_the_same_queries_for_any_thread_length(desk):
    client = client_for(desk.manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page_url(desk.ours)).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(15):
        message = factories.message(conversation=desk.ours)
        factories.attachment(message=message)
        factories.note(conversation=desk.ours, author=desk.agent.user)
    assert queries() == few


# --- Safety -------------------------------------------------------------------------------

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def test_customer_text_is_escaped_everywhere(desk):
    customer = desk.ours.customer
    customer.display_name = XSS
    customer.save()
    factories.identity(customer=customer, handle=XSS, display_name=XSS)
    message = factories.message(conversation=desk.ours, content=XSS)
    factories.attachment(message=message, type="file", url="https://cdn.example.com/f", name=XSS)
    client = client_for(desk.agent.user)
    for body in (
        client.get(page_url(desk.ours), {"view": "teams"}).content.decode(),
        htmx(client, f"{page_url(desk.ours)}row/", f"conversation-{desk.ours.pk}").content.decode(),
    ):
        assert "<script>alert" not in body
        assert 'onerror="alert' not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "tg-file:AgAD123"]
)
def test_only_http_urls_become_links_or_images(desk, url):
    message = factories.message(conversation=desk.ours)
    factories.attachment(message=message, type="image", url=url)
    Conversation.objects.filter(pk=desk.ours.pk).update(post_url=url, post_id="p1")
    body = client_for(desk.agent.user).get(page_url(desk.ours)).content.decode()
    assert f'src="{url}' not in body
    assert f'href="{url}' not in body
    assert "(open it on the platform)" in body


def test_links_from_customer_data_open_without_referrer(desk):
    message = factories.message(conversation=desk.ours)
    factories.attachment(
        message=message, type="file", url="https://cdn.example.com/a.pdf", name="a.pdf"
    )
    body = client_for(desk.agent.user).get(page_url(desk.ours)).content.decode()
    assert re.search(
        r'<a class="msg-file" href="https://cdn.example.com/a.pdf" target="_blank" rel="noopener noreferrer">',
        body,
    )


def test_pages_forbid_inline_scripts_and_carry_none(desk):
    response = client_for(desk.agent.user).get(page_url(desk.ours))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    body = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)
    assert not re.search(r"\son[a-z]+=", body)
    assert not re.search(r"\sstyle=", body)


def test_every_form_carries_the_csrf_token_and_htmx_sends_it(desk):
    body = client_for(desk.agent.user).get(page_url(desk.ours)).content.decode()
    forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", body, flags=re.S)
    assert forms
    assert all("csrfmiddlewaretoken" in form for form in forms)
    assert re.search(r"<body[^>]*hx-headers='\{\"X-CSRFToken\": \"\w+\"\}'", body)


def test_channel_filter_offers_an_agent_their_teams_channels_only(desk):
    agent_page = client_for(desk.agent.user).get("/").content.decode()
    manager_page = client_for(desk.manager).get("/").content.decode()
    assert "Acme Page" in agent_page
    assert "Other brand" not in agent_page
    assert "Other brand" in manager_page


def test_sla_sort_lists_conversations_with_a_running_clock_nearest_deadline_first(desk):
    factories.sla_policy(is_default=True)
    now = timezone.now()
    conversation_ids = {}
    for minutes_ago, name in ((5, "later"), (30, "sooner"), (15, "middle")):
        message = message_ingest(
            channel=desk.channel,
            event=factories.inbound_event(
                sender=Sender(external_id=name, display_name=name),
                timestamp=now - timedelta(minutes=minutes_ago),
            ),
        )
        conversation_ids[name] = message.conversation_id

    response = client_for(desk.agent.user).get("/", {"view": "teams", "sort": "sla"})

    # `ours` has no SLA clock: it has no deadline to sort by.
    assert listed_ids(response) == [
        conversation_ids[name] for name in ("sooner", "middle", "later")
    ]
