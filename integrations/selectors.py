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


def active_channel(*, channel_id: int, platform: str) -> Channel | None:
    return Channel.objects.filter(pk=channel_id, platform=platform, is_active=True).first()


def signing_channels(*, platforms: Iterable[str]) -> list[Channel]:
    """Active channels with only what verifying a delivery needs: on the hot path of every
    webhook, so the other credentials are not loaded (each would be decrypted)."""
    return list(
        Channel.objects.filter(platform__in=list(platforms), is_active=True)
        .only("pk", "platform", "account_id", "app_secret")
        .order_by("-created_at", "-pk")
    )
