import time
from collections.abc import Iterable

from integrations.models import Channel, Platform

# Meta delivers Facebook and Instagram events through the same app; either URL may carry
# either kind, and the account id inside picks the channel.
META_PLATFORMS = (Platform.FACEBOOK, Platform.INSTAGRAM)
APP_LEVEL_PLATFORMS = {
    Platform.FACEBOOK: META_PLATFORMS,
    Platform.INSTAGRAM: META_PLATFORMS,
    Platform.X: (Platform.X,),
    Platform.LINKEDIN: (Platform.LINKEDIN,),
}


def active_channels(*, platforms: Iterable[str]) -> list[Channel]:
    return list(Channel.objects.filter(platform__in=list(platforms), is_active=True).order_by("-created_at", "-pk"))


# Signing material is read on every webhook but changes rarely; each process keeps it this
# long. The process that changes a channel forgets at once, the others within this time.
SIGNING_CACHE_SECONDS = 5.0
_signing_cache: dict[tuple[str, ...], tuple[float, list[Channel]]] = {}


def signing_channels(*, platforms: Iterable[str]) -> list[Channel]:
    """Active channels with only what verifying a delivery needs (other credentials are not
    loaded, as each would be decrypted), cached per process for SIGNING_CACHE_SECONDS."""
    key = tuple(sorted(platforms))
    cached = _signing_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    channels = list(
        Channel.objects.filter(platform__in=key, is_active=True)
        .only("pk", "platform", "account_id", "app_secret")
        .order_by("-created_at", "-pk")
    )
    _signing_cache[key] = (time.monotonic() + SIGNING_CACHE_SECONDS, channels)
    return channels


def signing_channel(*, channel_id: int, platform: str) -> Channel | None:
    """The active channel a per-channel webhook URL names (Telegram), from the same cache."""
    return next((c for c in signing_channels(platforms=[platform]) if c.pk == channel_id), None)


def signing_channels_forget(**kwargs) -> None:
    """Drop the cached signing material (connected to Channel saves and deletes)."""
    _signing_cache.clear()
