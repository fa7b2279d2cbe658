from django.urls import path

from inbox.api import (
    ConversationDetailView,
    ConversationListView,
    ConversationReplyView,
    SyncStatusView,
)

urlpatterns = [
    path("conversations/", ConversationListView.as_view(), name="api-conversation-list"),
    path(
        "conversations/<int:pk>/", ConversationDetailView.as_view(), name="api-conversation-detail"
    ),
    path(
        "conversations/<int:pk>/messages/",
        ConversationReplyView.as_view(),
        name="api-conversation-reply",
    ),
    path("sync/", SyncStatusView.as_view(), name="api-sync-status"),
]
