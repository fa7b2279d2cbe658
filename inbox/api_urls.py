from django.urls import path

from inbox.api import ConversationDetailView, ConversationListView

urlpatterns = [
    path("conversations/", ConversationListView.as_view(), name="api-conversation-list"),
    path(
        "conversations/<int:pk>/", ConversationDetailView.as_view(), name="api-conversation-detail"
    ),
]
