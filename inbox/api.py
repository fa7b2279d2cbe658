"""Conversations API: reads, and agents' replies. Visibility, filtering and the related rows
each page needs come from `inbox.selectors.visibility` and `inbox.filters`, replies from
`inbox.services.replies`; these views only wire them to DRF."""

import uuid

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.filters import UNASSIGNED, ConversationFilter
from inbox.selectors.visibility import (
    CONVERSATION_ORDERS,
    conversation_detail,
    conversation_list,
    conversations_visible_to,
)
from inbox.serializers import (
    ChannelSyncSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
    ReplyCreateSerializer,
    ReplySerializer,
)
from inbox.services import reply_queue
from integrations.outbound import OutboundAttachment
from integrations.sync import last_syncs, sync_channels
from sla.selectors import conversations_with_sla

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 100


class ConversationCursorPagination(CursorPagination):
    """Newest activity first. A cursor stays correct while new messages arrive, where page
    numbers would shift rows. A bad `page_size` or cursor is refused with a 400 rather than
    silently replaced, so a client's bug shows up at once.
    """

    page_size = PAGE_SIZE_DEFAULT
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        reason = f"Enter a whole number from 1 to {self.max_page_size}."
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({self.page_size_query_param: [reason]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [reason]})
        return size

    def get_ordering(self, request: Request, queryset, view) -> tuple[str, ...]:
        return CONVERSATION_ORDERS[view.list_order()]

    def decode_cursor(self, request: Request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:  # DRF answers 404 for a malformed cursor; it is a bad parameter
            raise ValidationError({self.cursor_query_param: [str(exc.detail)]}) from None


@extend_schema(
    summary="List conversations",
    description="Conversations the caller may see, newest activity first, with a preview of "
    "each one's newest message. Staff see every conversation; other users see those "
    "assigned to them.",
    parameters=[
        OpenApiParameter("channel", OpenApiTypes.INT, description="Channel id."),
        OpenApiParameter(
            "assignee",
            OpenApiTypes.STR,
            description=f"Assignee's user id, or `{UNASSIGNED}` for unassigned conversations.",
        ),
        OpenApiParameter(
            "page_size",
            OpenApiTypes.INT,
            description=f"Items per page, 1 to {PAGE_SIZE_MAX} (default {PAGE_SIZE_DEFAULT}).",
        ),
        OpenApiParameter(
            "ordering",
            OpenApiTypes.STR,
            enum=list(CONVERSATION_ORDERS),
            description="`activity` (newest activity first, the default) or `sla_deadline` "
            "(nearest SLA deadline first; conversations without a running clock last).",
        ),
    ],
)
class ConversationListView(ListAPIView):
    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    pagination_class = ConversationCursorPagination

    def list_order(self) -> str:
        order = self.request.query_params.get("ordering", "activity")
        if order not in CONVERSATION_ORDERS:
            raise ValidationError({"ordering": [f"Choose one of: {', '.join(CONVERSATION_ORDERS)}."]})
        return order

    def get_queryset(self):
        return conversations_with_sla(conversation_list(user=self.request.user, order=self.list_order()))


@extend_schema(
    summary="Retrieve a conversation",
    description="One conversation with its messages (oldest first) and internal notes. "
    "A conversation the caller may not see answers 404, like one that does not exist.",
)
class ConversationDetailView(RetrieveAPIView):
    serializer_class = ConversationDetailSerializer

    def get_queryset(self):
        return conversations_with_sla(conversation_detail(user=self.request.user))


@extend_schema(
    summary="Reply in a conversation",
    description="Queue an agent's reply: it is stored as a pending outbound message and sent "
    "through the channel's platform in the background; its `delivery_status` then moves to "
    "sent, delivered and read, or to failed with a `failure_reason`. A reply the platform "
    "would refuse (too long, outside the messaging window, inactive channel) answers 400 and "
    "stores nothing. Send a `client_token` to make retries of this request safe.",
    request=ReplyCreateSerializer,
    responses={201: ReplySerializer, 200: ReplySerializer},
)
class ConversationReplyView(APIView):
    def post(self, request: Request, pk: int) -> Response:
        conversation = get_object_or_404(
            conversations_visible_to(user=request.user).select_related("channel"), pk=pk
        )
        serializer = ReplyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reply_to = None
        if data["reply_to"] is not None:
            reply_to = conversation.messages.filter(pk=data["reply_to"]).first()
            if reply_to is None:
                raise ValidationError(
                    {"reply_to": ["No message with this id in the conversation."]}
                )
        message, created = reply_queue(
            conversation=conversation,
            author=request.user,
            text=data["text"],
            client_token=data["client_token"] or uuid.uuid4(),
            attachments=[
                OutboundAttachment(type=a["type"], url=a["url"]) for a in data["attachments"]
            ],
            reply_to=reply_to,
            private=data["private"],
        )
        return Response(ReplySerializer(message).data, status=201 if created else 200)


@extend_schema(
    summary="Last sync per channel",
    description="For each active channel (of `team`, if given): when its conversations were last "
    "listed from the platform, how many, or why that failed (error code, retry-after).",
    parameters=[OpenApiParameter("team", OpenApiTypes.INT, description="Team id.")],
    responses={200: ChannelSyncSerializer(many=True)},
)
class SyncStatusView(APIView):
    def get(self, request: Request) -> Response:
        team = request.query_params.get("team")
        if team is not None and not team.isdigit():
            raise ValidationError({"team": ["Enter a team id."]})
        channels = sync_channels(team_id=int(team) if team else None)
        return Response(ChannelSyncSerializer(last_syncs(channels=channels), many=True).data)
