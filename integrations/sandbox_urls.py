"""Fake platform endpoints for sandbox channels, served only when SANDBOX_PLATFORMS_ENABLED."""

from django.conf import settings
from django.urls import path

from integrations import sandbox_bluesky

app_name = "sandbox"

urlpatterns = (
    [path("bluesky/xrpc/<str:nsid>", sandbox_bluesky.xrpc, name="bluesky-xrpc")]
    if settings.SANDBOX_PLATFORMS_ENABLED
    else []
)
