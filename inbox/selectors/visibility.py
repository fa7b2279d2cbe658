"""Inbox reads for pages and the API, already limited to what the user may see.

The conversation selectors return querysets rather than lists so that the API's generic views
can still filter, paginate and look rows up by id; every related row a page shows is loaded
here, in a fixed number of queries whatever the number of rows.
"""

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Substr

from inbox.models import Attachment, Conversation, CustomerIdentity, Message, Note
from routing.models import Team
from sla.selectors import conversations_by_sla_deadline

# Newest activity first; matches the `conversation_activity` index, and `-id` makes the
# order total, which cursor pagination needs to neither repeat nor skip a row.
CONVERSATION_ACTIVITY_ORDER = ("-last_message_at", "-id")
# How much of the newest message a conversation list shows.
MESSAGE_PREVIEW_LENGTH = 200
CHANNEL_SECRETS = ("channel__app_secret", "channel__verify_token", "channel__access_token")


def team_scope(*, user: AbstractUser) -> Q:
    """The conversations of the user's teams: on a channel one of their teams serves, or
    handed to one of their teams (a transfer can move a conversation to a team that does not
    serve its channel)."""
    teams = Team.objects.filter(members=user.pk)
    return Q(team__in=teams.values("pk")) | Q(channel__in=teams.values("channels"))


def conversations_visible_to(*, user: AbstractUser | AnonymousUser) -> QuerySet[Conversation]:
    """Return the conversations the user may see: all of them for staff (managers, service
    accounts); for everyone else their teams' conversations (see `team_scope`) and those
    assigned to them.

    Every conversation read goes through here: the API, the console's pages, its htmx
    fragments and its websocket subscriptions.
    """
    conversations = Conversation.objects.all()
    if not user.is_authenticated:
        return conversations.none()
    if user.is_staff:
        return conversations
    return conversations.filter(Q(assignee=user) | team_scope(user=user))


# Orders a list can be read in, each total (it ends with the id) so a cursor never repeats
# or skips a row. `sla_deadline` puts conversations without a running clock last.
CONVERSATION_ORDERS = {
    "activity": CONVERSATION_ACTIVITY_ORDER,
    "sla_deadline": ("sla_deadline", "id"),
}
def conversation_list(*, user: AbstractUser | AnonymousUser, order: str = "activity") -> QuerySet[Conversation]:
    """Return the visible conversations in `order` (a key of CONVERSATION_ORDERS) with what a
    list row shows: channel, customer and identities, assignee, tags and a preview of the
    newest message (SLA clocks: `sla.selectors.conversations_with_sla`)."""
    # Prefetching a sliced queryset makes Django pick each conversation's newest message with
    # one window-function query for the whole page, instead of one query per row.
    newest_message = (
        Message.objects.order_by("-created_at", "-id")
        .annotate(preview=Substr("content", 1, MESSAGE_PREVIEW_LENGTH))
        # Only the preview travels: a message body can be long.
        .defer("content")[:1]
    )
    conversations = conversations_visible_to(user=user)
    if order == "sla_deadline":
        conversations = conversations_by_sla_deadline(conversations)
    return (
        conversations.select_related("channel", "customer", "assignee")
        # Nothing here shows credentials: leave them in the database rather than decrypt a
        # channel's secrets for every row.
        .defer(*CHANNEL_SECRETS, "assignee__password")
        .prefetch_related(
            Prefetch("customer__identities", queryset=CustomerIdentity.objects.order_by("id")),
            "tags",
            Prefetch("messages", queryset=newest_message, to_attr="newest_messages"),
        )
        .order_by(*CONVERSATION_ORDERS[order])
    )


def conversation_detail(*, user: AbstractUser | AnonymousUser) -> QuerySet[Conversation]:
    """Return the visible conversations with everything a list row shows plus the whole
    thread: messages oldest first with their authors and attachments, and internal notes."""
    return conversation_list(user=user).prefetch_related(
        Prefetch(
            "messages",
            queryset=Message.objects.select_related("author")
            .defer("author__password")
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
            .order_by("created_at", "id"),
        ),
        Prefetch(
            "notes",
            queryset=Note.objects.select_related("author")
            .defer("author__password")
            .order_by("created_at", "id"),
        ),
    )
