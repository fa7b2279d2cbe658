"""Connecting channels: the one place that decides whether a channel's settings are usable.

The `add_channel` command calls `channel_create`; the admin may call the same validators.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from helpdesk.errors import Conflict, DomainError
from integrations.models import Channel, Platform

# Telegram's rule for setWebhook's secret_token, which its header then carries.
TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
SECRET_FIELDS = ("app_secret", "verify_token", "access_token")


class InvalidChannel(DomainError):
    code = "invalid_channel"


class ChannelExists(Conflict):
    code = "channel_exists"


def channel_platform_validate(*, platform: str) -> None:
    if platform not in Platform.values:
        raise InvalidChannel(
            f"Unknown platform {platform!r}: choose one of {', '.join(Platform.values)}."
        )


def channel_account_validate(*, platform: str, account_id: str) -> None:
    # The Bluesky parser tells the brand's own sends apart by comparing DIDs.
    if platform == Platform.BLUESKY and not account_id.startswith("did:"):
        raise InvalidChannel("A Bluesky account id is the account's DID (did:plc:… or did:web:…).")


def channel_secrets_validate(*, platform: str, app_secret: str, access_token: str) -> None:
    """Refuse a channel that could not authenticate its webhooks or its API calls."""
    if platform == Platform.BLUESKY:
        # Bluesky is polled: nothing to verify, but logging in needs the app password.
        if not access_token:
            raise InvalidChannel("A Bluesky channel needs its app password as the access token.")
        return
    if not app_secret:
        raise InvalidChannel(
            f"A {Platform(platform).label} channel needs the app secret that signs its webhooks."
        )
    if platform == Platform.TELEGRAM and not TELEGRAM_SECRET.fullmatch(app_secret):
        raise InvalidChannel(
            "A Telegram secret token is 1 to 256 characters of A-Z, a-z, 0-9, _ and -."
        )


def channel_api_base_url_validate(*, api_base_url: str) -> None:
    if not api_base_url:
        return
    try:
        URLValidator(schemes=["http", "https"])(api_base_url)
    except ValidationError as exc:
        raise InvalidChannel(f"The API base URL {api_base_url!r} is not an http(s) URL.") from exc
    max_length = Channel._meta.get_field("api_base_url").max_length
    if len(api_base_url) > max_length:
        raise InvalidChannel(f"The API base URL is longer than {max_length} characters.")


def _text_validate(*, field: str, value: str, label: str) -> None:
    if not value:
        raise InvalidChannel(f"The {label} must not be empty.")
    max_length = Channel._meta.get_field(field).max_length
    if len(value) > max_length:
        raise InvalidChannel(f"The {label} is longer than {max_length} characters.")


def channel_create(
    *,
    platform: str,
    account_id: str,
    name: str,
    app_secret: str = "",
    verify_token: str = "",
    access_token: str = "",
    api_base_url: str = "",
    sandbox: bool = False,
) -> Channel:
    """Validate and store a new channel; raise InvalidChannel or ChannelExists, storing nothing.

    A sandbox channel without an API base URL talks to this deployment's fake platform
    (`Channel.effective_api_base_url`).
    """
    account_id, name = account_id.strip(), name.strip()
    channel_platform_validate(platform=platform)
    _text_validate(field="name", value=name, label="name")
    _text_validate(field="account_id", value=account_id, label="account id")
    channel_account_validate(platform=platform, account_id=account_id)
    channel_secrets_validate(platform=platform, app_secret=app_secret, access_token=access_token)
    channel_api_base_url_validate(api_base_url=api_base_url)
    try:
        with transaction.atomic():
            return Channel.objects.create(
                platform=platform,
                account_id=account_id,
                name=name,
                mode=Channel.Mode.SANDBOX if sandbox else Channel.Mode.LIVE,
                app_secret=app_secret,
                verify_token=verify_token,
                access_token=access_token,
                api_base_url=api_base_url,
            )
    except IntegrityError as exc:  # the unique constraint settles concurrent creations too
        raise ChannelExists(
            f"A {Platform(platform).label} channel for account {account_id!r} already exists."
        ) from exc


def channel_summary(*, channel: Channel) -> dict:
    """Describe a channel for people: where it is reached, and which secrets are set (never
    their values)."""
    path = channel.webhook_path()
    return {
        "id": channel.pk,
        "platform": channel.platform,
        "name": channel.name,
        "account_id": channel.account_id,
        "mode": channel.mode,
        "api_base_url": channel.effective_api_base_url,
        "webhook_url": f"{settings.PUBLIC_BASE_URL}{path}" if path else None,
        "secrets_set": {name: bool(getattr(channel, name)) for name in SECRET_FIELDS},
    }
