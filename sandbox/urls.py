"""Fake platform endpoints for sandbox channels (mounted under /sandbox/ when the app is
installed): the Bluesky PDS that sandbox channels poll, and every platform's API that replies go to."""

from django.urls import path, re_path

from sandbox import platform as sandbox_platform

app_name = "sandbox"

urlpatterns = [
    path("bluesky/xrpc/<str:nsid>", sandbox_platform.bluesky_xrpc, name="bluesky-xrpc"),
    re_path(
        r"^(?P<platform>facebook|instagram)/(?P<path>.+)$",
        sandbox_platform.meta_graph,
        name="meta-graph",
    ),
    path("x/<path:path>", sandbox_platform.x_api, name="x-api"),
    path("linkedin/<path:path>", sandbox_platform.linkedin_api, name="linkedin-api"),
    re_path(
        r"^telegram/bot(?P<token>[^/]+)/(?P<method>\w+)$",
        sandbox_platform.telegram_bot_api,
        name="telegram-bot-api",
    ),
    path("stats", sandbox_platform.stats, name="stats"),
]
