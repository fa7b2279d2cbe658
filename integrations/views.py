"""Webhook endpoints: verify, store, answer. Processing happens in a task, never here."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.models import Platform
from integrations.platforms import adapter_for
from integrations.platforms.base import PayloadTooLarge, UnknownChannel
from integrations.selectors import APP_LEVEL_PLATFORMS, active_channels, signing_channel
from integrations.services import webhook_event_receive


def _body(request: HttpRequest) -> bytes:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.") from exc
    if len(body) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    return body


def _accepted(event) -> JsonResponse:
    return JsonResponse({"status": "accepted", "event_id": event.pk})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def app_webhook(request: HttpRequest, platform: str) -> HttpResponse:
    """Facebook, Instagram, X and LinkedIn: one URL per platform for every connected account."""
    if platform not in APP_LEVEL_PLATFORMS:
        raise UnknownChannel(f"No webhook for platform {platform!r}.")
    if request.method == "GET":
        channels = active_channels(platforms=APP_LEVEL_PLATFORMS[platform])
        return adapter_for(platform).handshake(
            params=request.GET,
            verify_tokens=[c.verify_token for c in channels if c.verify_token],
            secrets=[c.app_secret for c in channels if c.app_secret],
        )
    event = webhook_event_receive(platform=platform, body=_body(request), headers=request.headers)
    return _accepted(event)


@csrf_exempt
@require_http_methods(["POST"])
def telegram_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    """Telegram: one URL per bot, authenticated by the secret token set with setWebhook."""
    channel = signing_channel(channel_id=channel_id, platform=Platform.TELEGRAM)
    if channel is None:
        raise UnknownChannel(f"No active Telegram channel {channel_id}.")
    event = webhook_event_receive(platform=Platform.TELEGRAM, body=_body(request), headers=request.headers, channel=channel)
    return _accepted(event)
