"""Read API for conversations. Visibility, filtering and the related rows each page needs come
from `inbox.selectors` and `inbox.filters`; these views only wire them to DRF."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from inbox.filters import UNASSIGNED, ConversationFilter
from inbox.selectors import CONVERSATION_ACTIVITY_ORDER, conversation_detail, conversation_list
from inbox.serializers import ConversationDetailSerializer, ConversationSerializer

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 100


class ConversationCursorPagination(CursorPagination):
    """Newest activity first. A cursor stays correct while new messages arrive, where page
    numbers would shift rows. A bad `page_size` or cursor is refused with a 400 rather than
    silently replaced, so a client's bug shows up at once.
    """

    ordering = CONVERSATION_ACTIVITY_ORDER
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
    ],
)
class ConversationListView(ListAPIView):
    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    pagination_class = ConversationCursorPagination

    def get_queryset(self):
        return conversation_list(user=self.request.user)


@extend_schema(
    summary="Retrieve a conversation",
    description="One conversation with its messages (oldest first) and internal notes. "
    "A conversation the caller may not see answers 404, like one that does not exist.",
)
class ConversationDetailView(RetrieveAPIView):
    serializer_class = ConversationDetailSerializer

    def get_queryset(self):
        return conversation_detail(user=self.request.user)
