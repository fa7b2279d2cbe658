"""Reads for the agent console, built on `inbox.selectors.visibility` so every one of them is limited to
the conversations the user may see. Each page costs a fixed number of queries whatever the
number of rows (bench/console.py counts them).
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, TextChoices
from django.db.models.functions import Coalesce
from django.http import Http404

from inbox.broadcast import ALL_INBOXES_GROUP, inbox_group
from inbox.models import Conversation, ConversationRead, CustomerIdentity, Message, Note
from inbox.selectors.visibility import (
    conversation_detail,
    conversation_list,
    conversations_visible_to,
    team_scope,
)
from integrations.models import Channel, Platform
from integrations.platforms.meta import HUMAN_AGENT_WINDOW, STANDARD_WINDOW
from routing.broadcast import agent_group, team_group
from routing.models import Agent, Team
from sla.models import Clock, Target
from sla.selectors import (
    ClockReading,
    clock_readings,
    conversations_sla_filter,
    conversations_with_sla,
)

PAGE_SIZE = 50
# How many of the customer's other conversations the customer panel lists.
HISTORY_SIZE = 10
META_PLATFORMS = (Platform.FACEBOOK, Platform.INSTAGRAM)


class InboxView(TextChoices):
    MINE = "mine", "Mine"
    UNASSIGNED = "unassigned", "Unassigned"
    TEAMS = "teams", "My teams"
    ALL = "all", "All"


class InboxSort(TextChoices):
    ACTIVITY = "activity", "Last activity"
    SLA = "sla", "SLA deadline"


# The list's status filter: a conversation status, open and pending together, or any.
ACTIVE = "active"
ANY_STATUS = "any"


@dataclass(frozen=True)
class InboxQuery:
    view: str = InboxView.MINE
    status: str = ACTIVE
    platform: str = ""
    channel: int | None = None
    priority: str = ""
    source: str = ""
    tag: str = ""
    sla: str = ""
    q: str = ""
    sort: str = InboxSort.ACTIVITY
    page: int = 1


def inbox_views(*, user: AbstractUser) -> list[InboxView]:
    """The list's views the user may choose: All only for managers (staff)."""
    return [view for view in InboxView if view != InboxView.ALL or user.is_staff]


def _in_view(conversations: QuerySet, *, user: AbstractUser, view: str) -> QuerySet:
    match view:
        case InboxView.MINE:
            return conversations.filter(assignee=user)
        case InboxView.UNASSIGNED:
            return conversations.filter(assignee__isnull=True)
        case InboxView.TEAMS:
            return conversations.filter(team_scope(user=user))
    return conversations  # ALL: the form offers it to managers only


def _matching(conversations: QuerySet, *, query: InboxQuery, now: datetime) -> QuerySet:
    if query.status == ACTIVE:
        conversations = conversations.filter(status__in=Conversation.ACTIVE_STATUSES)
    elif query.status != ANY_STATUS:
        conversations = conversations.filter(status=query.status)
    exact = {
        "channel__platform": query.platform,
        "channel_id": query.channel,
        "priority": query.priority,
        "source": query.source,
        # Tag names are unique: joining on one name cannot repeat a conversation.
        "tags__name": query.tag,
    }
    conversations = conversations.filter(
        **{field: value for field, value in exact.items() if value}
    )
    if query.sla:
        conversations = conversations_sla_filter(conversations, state=query.sla, now=now)
    if query.q:
        conversations = conversations.filter(_search(query.q))
    return conversations


def _search(text: str) -> Q:
    """Customer name, any of their handles (with or without the @), or any message's text."""
    handle = text.lstrip("@")
    return (
        Q(customer__display_name__icontains=text)
        | Exists(
            CustomerIdentity.objects.filter(customer=OuterRef("customer"), handle__icontains=handle)
        )
        | Exists(Message.objects.filter(conversation=OuterRef("pk"), content__icontains=text))
    )


def _with_unread(conversations: QuerySet, *, user: AbstractUser) -> QuerySet:
    """Annotate `unread`: the customer's messages newer than what the user last read."""
    read_up_to = ConversationRead.objects.filter(conversation=OuterRef("conversation"), user=user)
    newer = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.INBOUND,
            pk__gt=Coalesce(Subquery(read_up_to.values("last_message_id")[:1]), 0),
        )
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
    )
    return conversations.annotate(unread=Coalesce(Subquery(newer.values("n")[:1]), 0))


@dataclass(frozen=True)
class SlaSummary:
    """The most urgent of a conversation's SLA clocks, as the list and header show it."""

    target: str
    status: str
    deadline: datetime | None

    @property
    def target_label(self) -> str:
        return Target(self.target).label


# Most urgent first; a clock's deadline breaks ties.
_SLA_URGENCY = {"breached": 0, "warning": 1, "ok": 2, "paused": 3}


def sla_summary(conversation: Conversation, *, now: datetime) -> SlaSummary | None:
    """Return the clock to watch, or None when no clock is running, paused or overdue."""
    readings: list[ClockReading] = [
        reading
        for reading in clock_readings(conversation, now=now).values()
        if reading.remaining_seconds is not None
    ]
    if not readings:
        return None
    reading = min(
        readings,
        key=lambda r: (
            _SLA_URGENCY.get(r.status, len(_SLA_URGENCY)),
            r.deadline is None,
            r.deadline or now,
        ),
    )
    return SlaSummary(target=reading.target, status=reading.status, deadline=reading.deadline)


@dataclass(frozen=True)
class InboxPage:
    conversations: list[Conversation]
    has_next: bool


def _nearest_deadlines(conversations: QuerySet, *, start: int, count: int) -> list[int]:
    """Ids of those of `conversations` with a running SLA clock, nearest deadline first.

    Walks the clocks' deadline index and keeps each clock only where it is its conversation's
    nearest, so a page costs a few index probes at any size, where ordering the conversations
    by a per-row nearest deadline (sla.selectors) computes it for every one of them first.
    """
    nearer = Clock.objects.filter(
        Q(deadline__lt=OuterRef("deadline"))
        | Q(deadline=OuterRef("deadline"), pk__lt=OuterRef("pk")),
        conversation_id=OuterRef("conversation_id"),
        state=Clock.State.RUNNING,
    )
    clocks = (
        # Stated as the `clock_active_deadline` index's own condition, so the planner uses it.
        Clock.objects.exclude(state=Clock.State.STOPPED)
        .filter(
            state=Clock.State.RUNNING,
            deadline__isnull=False,
            conversation__in=conversations.values("pk"),
        )
        .exclude(Exists(nearer))
        .order_by("deadline", "pk")
    )
    return list(clocks.values_list("conversation_id", flat=True)[start : start + count])


def inbox_page(*, user: AbstractUser, query: InboxQuery, now: datetime) -> InboxPage:
    """One page of the conversation list, each row with `unread` and `sla` (an SlaSummary).

    Sorted by SLA deadline, the list holds the conversations with a running SLA clock: the
    others have no deadline to sort by.
    """
    matching = _matching(
        _in_view(conversation_list(user=user), user=user, view=query.view), query=query, now=now
    )
    start = (query.page - 1) * PAGE_SIZE
    if query.sort == InboxSort.SLA:
        ids = _nearest_deadlines(matching, start=start, count=PAGE_SIZE + 1)
        found = {
            c.pk: c for c in _for_rows(conversation_list(user=user).filter(pk__in=ids), user=user)
        }
        rows = [found[pk] for pk in ids if pk in found]
    else:
        rows = list(_for_rows(matching, user=user)[start : start + PAGE_SIZE + 1])
    for conversation in rows:
        conversation.sla = sla_summary(conversation, now=now)
    return InboxPage(conversations=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE)


def _for_rows(conversations: QuerySet, *, user: AbstractUser) -> QuerySet:
    """What a list row shows beyond `conversation_list`: the unread count and SLA clocks."""
    return conversations_with_sla(_with_unread(conversations, user=user))


def inbox_row(*, user: AbstractUser, conversation_id: int, now: datetime) -> Conversation:
    """One list row, for a live update; 404 when the user may not see it."""
    conversation = (
        _for_rows(conversation_list(user=user), user=user).filter(pk=conversation_id).first()
    )
    if conversation is None:
        raise Http404("No such conversation.")
    conversation.sla = sla_summary(conversation, now=now)
    return conversation


@dataclass(frozen=True)
class ThreadItem:
    """A message or an internal note, in the order they happened."""

    kind: str  # "message" or "note"
    item: Message | Note


def thread_items(conversation: Conversation) -> list[ThreadItem]:
    """Messages and notes interleaved by time; reads what `conversation_detail` prefetched."""
    items = [ThreadItem("message", message) for message in conversation.messages.all()]
    items += [ThreadItem("note", note) for note in conversation.notes.all()]
    return sorted(items, key=lambda entry: (entry.item.created_at, entry.kind, entry.item.pk))


@dataclass(frozen=True)
class MessagingWindow:
    """Meta's rule for answering a DM: a standard reply within 24 hours of the customer's last
    message, a HUMAN_AGENT-tagged one up to 7 days, nothing after that."""

    state: str  # "standard", "human_agent" or "closed"
    until: datetime | None


def messaging_window(conversation: Conversation, *, now: datetime) -> MessagingWindow | None:
    """The window of a Messenger or Instagram DM, from the thread `conversation_detail` loaded;
    None where no such window applies."""
    if (
        conversation.source != Conversation.Source.DM
        or conversation.channel.platform not in META_PLATFORMS
    ):
        return None
    inbound = [
        m.created_at
        for m in conversation.messages.all()
        if m.direction == Message.Direction.INBOUND
    ]
    if not inbound:
        return MessagingWindow(state="closed", until=None)
    last = max(inbound)
    if now <= last + STANDARD_WINDOW:
        return MessagingWindow(state="standard", until=last + STANDARD_WINDOW)
    if now <= last + HUMAN_AGENT_WINDOW:
        return MessagingWindow(state="human_agent", until=last + HUMAN_AGENT_WINDOW)
    return MessagingWindow(state="closed", until=None)


def console_conversation(
    *, user: AbstractUser, conversation_id: int, now: datetime
) -> Conversation:
    """The conversation with its thread, SLA and the user's unread count; 404 when the user may
    not see it, exactly as when it does not exist."""
    conversations = _for_rows(conversation_detail(user=user), user=user)
    conversation = conversations.select_related("team").filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404("No such conversation.")
    conversation.sla = sla_summary(conversation, now=now)
    return conversation


def console_message(*, user: AbstractUser, conversation_id: int, message_id: int) -> Message:
    """One message of a conversation the user may see, for a live delivery-status update."""
    message = (
        Message.objects.filter(
            pk=message_id,
            conversation_id=conversation_id,
            conversation__in=conversations_visible_to(user=user),
        )
        .select_related("author")
        .prefetch_related("attachments")
        .first()
    )
    if message is None:
        raise Http404("No such message.")
    return message


def customer_history(*, user: AbstractUser, conversation: Conversation) -> list[Conversation]:
    """The customer's other conversations on any channel, newest first, as far as the user may
    see them."""
    return list(
        conversations_visible_to(user=user)
        .filter(customer_id=conversation.customer_id)
        .exclude(pk=conversation.pk)
        .select_related("channel")
        .defer("channel__app_secret", "channel__verify_token", "channel__access_token")
        .order_by("-last_message_at", "-id")[:HISTORY_SIZE]
    )


def conversation_visible(*, user: AbstractUser, conversation_id: int) -> bool:
    return conversations_visible_to(user=user).filter(pk=conversation_id).exists()


def conversation_for_action(*, user: AbstractUser, conversation_id: int) -> Conversation:
    """The conversation an action changes, with what the services read; 404 when the user
    may not see it."""
    conversation = (
        conversations_visible_to(user=user)
        .select_related("channel", "customer")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def private_replies_possible(conversation: Conversation) -> bool:
    """Whether the composer offers a private reply: to a comment on Facebook or Instagram,
    where a Page may answer a public comment with one direct message."""
    return (
        conversation.source == Conversation.Source.COMMENT
        and conversation.channel.platform in META_PLATFORMS
    )


def assignable_agents(*, conversation: Conversation) -> QuerySet[Agent]:
    """Agents a conversation can be handed to: its team's members, or every agent when it has
    no team."""
    agents = Agent.objects.select_related("user").order_by("user__username")
    if conversation.team_id is None:
        return agents
    return agents.filter(teams=conversation.team_id)


def visible_channels(*, user: AbstractUser) -> QuerySet[Channel]:
    """The active channels the list can be filtered by: every one for managers, their teams'
    for agents (another team's channel names are not theirs to see)."""
    channels = Channel.objects.filter(is_active=True).only("pk", "platform", "name")
    if user.is_staff:
        return channels
    return channels.filter(teams__members=user.pk).distinct()


def console_agent(*, user: AbstractUser) -> Agent | None:
    """The user's routing profile: only agents report presence."""
    return Agent.objects.filter(pk=user.pk).first()


def transfer_teams() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def console_groups(*, user: AbstractUser) -> list[str]:
    """The channel-layer groups a user's console listens to: every inbox for managers; for an
    agent, the inboxes of their teams' channels, their teams' and their own events. Empty for
    anyone else, who has no console."""
    if not user.is_authenticated:
        return []
    if user.is_staff:
        return [ALL_INBOXES_GROUP]
    if not Agent.objects.filter(pk=user.pk).exists():
        return []
    my_teams = Team.objects.filter(members=user.pk)
    channel_ids = (
        my_teams.filter(channels__isnull=False).values_list("channels", flat=True).distinct()
    )
    return [
        *(inbox_group(channel_id) for channel_id in channel_ids),
        *(team_group(team_id) for team_id in my_teams.values_list("pk", flat=True)),
        agent_group(user.pk),
    ]
