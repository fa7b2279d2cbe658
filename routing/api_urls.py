from django.urls import path

from routing.api import AgentHeartbeatView, AgentListView, ConversationAssignView, TeamQueueView

urlpatterns = [
    path(
        "conversations/<int:conversation_id>/assign/",
        ConversationAssignView.as_view(),
        name="api-conversation-assign",
    ),
    path("agents/", AgentListView.as_view(), name="api-agent-list"),
    path("agents/me/heartbeat/", AgentHeartbeatView.as_view(), name="api-agent-heartbeat"),
    path("teams/<int:team_id>/queue/", TeamQueueView.as_view(), name="api-team-queue"),
]
