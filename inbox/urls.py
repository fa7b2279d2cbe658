"""The agent console: `/` is the inbox, everything else lives under `/console/`."""

from django.contrib.auth import views as auth_views
from django.urls import path

from inbox import views

app_name = "console"

conversation = "console/conversations/<int:pk>/"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path(
        "console/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("console/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/presence/", views.presence, name="presence"),
    path(conversation, views.conversation, name="conversation"),
    path(f"{conversation}row/", views.conversation_row, name="conversation-row"),
    path(f"{conversation}messages/<int:message_id>/", views.message, name="message"),
    path(f"{conversation}status/", views.conversation_status, name="conversation-status"),
    path(f"{conversation}priority/", views.conversation_priority, name="conversation-priority"),
    path(f"{conversation}tags/", views.conversation_tags, name="conversation-tags"),
    path(f"{conversation}assign/", views.conversation_assign_agent, name="conversation-assign"),
    path(
        f"{conversation}transfer/", views.conversation_transfer_team, name="conversation-transfer"
    ),
    path(f"{conversation}replies/", views.conversation_reply, name="conversation-reply"),
    path(f"{conversation}notes/", views.conversation_note, name="conversation-note"),
    path(
        f"{conversation}messages/<int:message_id>/resend/",
        views.message_resend,
        name="message-resend",
    ),
    path(f"{conversation}read/", views.conversation_read, name="conversation-read"),
]
