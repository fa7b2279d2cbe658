"""The agent console: server-rendered pages whose parts htmx refreshes one by one.

One view serves a page and its fragments: for an htmx request, the element it targets
(HX-Target) picks the `_*.html` partial rendered alone, so each piece of markup exists once.
Every view reads through `inbox.selectors.console`, which only returns what the user may see:
a conversation of another team answers 404, as one that does not exist.
"""

import uuid
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, retarget, trigger_client_event
from django_htmx.middleware import HtmxDetails

from helpdesk.errors import DomainError
from inbox.canned import canned_replies_for
from inbox.forms import (
    AssignForm,
    InboxFilterForm,
    NoteForm,
    PresenceForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    TagsForm,
    TransferForm,
)
from inbox.models import Conversation, Tag
from inbox.selectors import console as selectors
from inbox.services import reply_queue
from inbox.services.triage import (
    conversation_mark_read,
    conversation_priority_set,
    conversation_status_set,
    conversation_tags_set,
    note_create,
    reply_resend,
)
from routing.permissions import can_assign
from routing.services import agent_heartbeat, conversation_assign, conversation_transfer


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class InvalidInput(DomainError):
    code = "invalid_input"


def console_login_required(view):
    """Send anonymous visitors to the console's sign-in page; an htmx request is told to load
    it as a page rather than swap it into a fragment."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        login = reverse("console:login")
        if request.htmx:
            back = request.htmx.current_url_abs_path or "/"
            return HttpResponseClientRedirect(f"{login}?{urlencode({'next': back})}")
        return redirect_to_login(request.get_full_path(), login)

    return wrapper


def _valid(form_class, data) -> dict:
    """Cleaned data of one of the console's own controls, or a 400 the page shows as a toast
    (only a tampered request sends a value the control does not offer)."""
    form = form_class(data)
    if not form.is_valid():
        raise InvalidInput(
            "That change is not valid.", extra={"errors": form.errors.get_json_data()}
        )
    return form.cleaned_data


# --- The list -----------------------------------------------------------------------------

# The list and its "load more" link both ask for the list partial.
LIST_TARGETS = ("conversation-list", "conversation-list-more")


def _list_context(request: HtmxHttpRequest, *, active_id: int | None = None) -> dict:
    form = InboxFilterForm(request.GET, user=request.user)
    query = form.query()
    # Links keep the filters: opening a conversation or the next page leaves the list as it is.
    kept = request.GET.copy()
    kept.pop("page", None)
    return {
        "filters": form,
        "query": query,
        "views": selectors.inbox_views(user=request.user),
        "page": selectors.inbox_page(user=request.user, query=query, now=timezone.now()),
        "list_query": kept.urlencode(),
        "active_id": active_id,
        "agent": selectors.console_agent(user=request.user),
    }


@console_login_required
@require_GET
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    context = _list_context(request)
    if request.htmx.target in LIST_TARGETS:
        return render(request, "inbox/_conversation_list.html", context)
    return render(request, "inbox/console.html", context)


@console_login_required
@require_GET
def conversation_row(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One row of the list, for a live update (the page sends its list's query string)."""
    row = selectors.inbox_row(user=request.user, conversation_id=pk, now=timezone.now())
    if not request.htmx:
        return HttpResponseRedirect(reverse("console:conversation", args=[pk]))
    context = {"conversation": row, "list_query": request.GET.urlencode()}
    return render(request, "inbox/_conversation_row.html", context)


# --- One conversation ---------------------------------------------------------------------

# The fragments of the conversation page an htmx request can target, by the target's id
# without the conversation's id.
CONVERSATION_PARTIALS = {
    "conversation-pane": "inbox/_conversation_pane.html",
    "thread": "inbox/_thread.html",
    "conversation-header": "inbox/_conversation_header.html",
    "customer-panel": "inbox/_customer_panel.html",
    "composer": "inbox/_composer.html",
}


def _conversation_context(request: HtmxHttpRequest, pk: int) -> dict:
    now = timezone.now()
    user = request.user
    conversation = selectors.console_conversation(user=user, conversation_id=pk, now=now)
    may_assign = can_assign(user)
    return {
        "conversation": conversation,
        "thread": selectors.thread_items(conversation),
        "window": selectors.messaging_window(conversation, now=now),
        "history": selectors.customer_history(user=user, conversation=conversation),
        "canned_replies": canned_replies_for(conversation=conversation, agent=user),
        "statuses": Conversation.Status.choices,
        "priorities": Conversation.Priority.choices,
        "all_tags": Tag.objects.all(),
        "conversation_tag_ids": {tag.pk for tag in conversation.tags.all()},
        "may_assign": may_assign,
        "agents": selectors.assignable_agents(conversation=conversation) if may_assign else [],
        "teams": selectors.transfer_teams() if may_assign else [],
        "private_replies": selectors.private_replies_possible(conversation),
        "reply_form": ReplyForm(initial={"client_token": uuid.uuid4()}),
        "note_form": NoteForm(),
        "composer_tab": "reply",
    }


def _conversation_response(
    request: HtmxHttpRequest,
    pk: int,
    *,
    extra: dict | None = None,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    if request.htmx.target in LIST_TARGETS:
        return render(
            request, "inbox/_conversation_list.html", _list_context(request, active_id=pk)
        )
    context = _conversation_context(request, pk) | (extra or {})
    if request.htmx:
        target = (request.htmx.target or "").removesuffix(f"-{pk}")
        partial = partial or CONVERSATION_PARTIALS.get(target)
    if partial:
        return render(request, partial, context, status=status)
    context |= _list_context(request, active_id=pk)
    return render(request, "inbox/console.html", context, status=status)


@console_login_required
@require_GET
def conversation(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _conversation_response(request, pk)


@console_login_required
@require_GET
def message(request: HtmxHttpRequest, pk: int, message_id: int) -> HttpResponse:
    """One message, for a live delivery-status update."""
    found = selectors.console_message(user=request.user, conversation_id=pk, message_id=message_id)
    if not request.htmx:
        page = reverse("console:conversation", args=[pk])
        return HttpResponseRedirect(f"{page}#message-{message_id}")
    return render(request, "inbox/_message.html", {"message": found})


# --- Actions on a conversation ------------------------------------------------------------


def conversation_action(view):
    """POST only, signed in, on a conversation the user may see (404 otherwise). The view gets
    the conversation; unless it answers itself, htmx gets the fragment the form targets and
    anything else a redirect to the page."""

    @wraps(view)
    @console_login_required
    @require_POST
    def wrapper(request: HtmxHttpRequest, pk: int, **ids: int) -> HttpResponse:
        conversation = selectors.conversation_for_action(user=request.user, conversation_id=pk)
        response = view(request, conversation, **ids)
        if response is not None:
            return response
        if not request.htmx:
            return HttpResponseRedirect(reverse("console:conversation", args=[pk]))
        return _conversation_response(request, pk)

    return wrapper


@conversation_action
def conversation_status(request: HtmxHttpRequest, conversation: Conversation) -> None:
    status = _valid(StatusForm, request.POST)["status"]
    conversation_status_set(conversation_id=conversation.pk, status=status)


@conversation_action
def conversation_priority(request: HtmxHttpRequest, conversation: Conversation) -> None:
    priority = _valid(PriorityForm, request.POST)["priority"]
    conversation_priority_set(conversation_id=conversation.pk, priority=priority)


@conversation_action
def conversation_tags(request: HtmxHttpRequest, conversation: Conversation) -> None:
    tags = _valid(TagsForm, request.POST)["tags"]
    conversation_tags_set(conversation_id=conversation.pk, tag_ids=[tag.pk for tag in tags])


@conversation_action
def conversation_assign_agent(request: HtmxHttpRequest, conversation: Conversation) -> None:
    agent_id = _valid(AssignForm, request.POST)["agent"]
    conversation_assign(conversation_id=conversation.pk, agent_id=agent_id, actor=request.user)


@conversation_action
def conversation_transfer_team(request: HtmxHttpRequest, conversation: Conversation) -> None:
    team_id = _valid(TransferForm, request.POST)["team"]
    conversation_transfer(conversation_id=conversation.pk, team_id=team_id, actor=request.user)


def _composer_answer(
    request: HtmxHttpRequest, conversation: Conversation, *, tab: str, invalid=None
) -> HttpResponse | None:
    """After a reply or a note: a fresh composer (a new client token, the same tab) and an
    event that has the page refresh the thread; the form with its errors if it was invalid."""
    if invalid is None and not request.htmx:
        return None
    extra = {"composer_tab": tab}
    if invalid is not None:
        extra[f"{tab}_form"] = invalid
    response = _conversation_response(
        request,
        conversation.pk,
        extra=extra,
        partial="inbox/_composer.html" if request.htmx else None,
        status=422 if invalid is not None else 200,
    )
    if not request.htmx:
        return response
    response = retarget(response, f"#composer-{conversation.pk}")
    if invalid is None:
        trigger_client_event(response, "thread-changed", {"id": conversation.pk})
    return response


@conversation_action
def conversation_reply(request: HtmxHttpRequest, conversation: Conversation) -> HttpResponse | None:
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _composer_answer(request, conversation, tab="reply", invalid=form)
    reply_queue(
        conversation=conversation,
        author=request.user,
        text=form.cleaned_data["text"],
        client_token=form.cleaned_data["client_token"],
        private=form.cleaned_data["private"],
    )
    return _composer_answer(request, conversation, tab="reply")


@conversation_action
def conversation_note(request: HtmxHttpRequest, conversation: Conversation) -> HttpResponse | None:
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _composer_answer(request, conversation, tab="note", invalid=form)
    note_create(
        conversation_id=conversation.pk, author=request.user, body=form.cleaned_data["body"]
    )
    return _composer_answer(request, conversation, tab="note")


@conversation_action
def message_resend(
    request: HtmxHttpRequest, conversation: Conversation, *, message_id: int
) -> None:
    reply_resend(conversation=conversation, message_id=message_id, author=request.user)


@conversation_action
def conversation_read(request: HtmxHttpRequest, conversation: Conversation) -> HttpResponse:
    conversation_mark_read(conversation_id=conversation.pk, user=request.user)
    # The list's row drops its unread badge: the page listens for this event.
    return trigger_client_event(
        HttpResponse(status=204), "conversation-read", {"id": conversation.pk}
    )


# --- Presence -----------------------------------------------------------------------------


@console_login_required
@require_POST
def presence(request: HtmxHttpRequest) -> HttpResponse:
    """The console's heartbeat (every 30 s) and the agent's online / away switch."""
    status = _valid(PresenceForm, request.POST)["status"]
    agent = agent_heartbeat(agent_id=request.user.pk, status=status)
    if not request.htmx:
        return HttpResponseRedirect(reverse("console:inbox"))
    return render(request, "inbox/_presence.html", {"agent": agent})
