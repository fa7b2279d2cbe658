"""Managers configure channels in the admin: secrets are write-only and validated."""

import pytest
from django.urls import reverse

from integrations.models import Channel, Platform
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client):
    client.force_login(factories.user(is_staff=True, is_superuser=True))
    return client


def test_channel_page_never_shows_a_stored_secret(manager_client):
    channel = factories.channel(app_secret="super-secret-value-123", access_token="EAAG-page-token-xyz")
    page = manager_client.get(reverse("admin:integrations_channel_change", args=[channel.pk])).content.decode()
    assert "super-secret-value-123" not in page
    assert "EAAG-page-token-xyz" not in page
    assert "su••••23" in page  # recognisable, not usable


def _form(channel=None, **overrides):
    data = {"platform": "telegram", "name": "Bot", "account_id": "701", "mode": "live", "is_active": "on",
            "app_secret": "", "verify_token": "", "access_token": "", "api_base_url": ""}
    data.update(overrides)
    return data


def test_saving_with_blank_secrets_keeps_the_stored_ones(manager_client):
    channel = factories.channel(platform=Platform.TELEGRAM, account_id="701", app_secret="keep_me-1")
    response = manager_client.post(reverse("admin:integrations_channel_change", args=[channel.pk]),
                                   _form(name="Renamed bot"))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.app_secret) == ("Renamed bot", "keep_me-1")


def test_invalid_telegram_secret_is_a_form_error(manager_client):
    response = manager_client.post(reverse("admin:integrations_channel_add"), _form(app_secret="has spaces!"))
    assert response.status_code == 200
    assert "A Telegram secret token is 1 to 256 characters" in response.content.decode()
    assert not Channel.objects.exists()


def test_webhook_channel_without_a_secret_is_a_form_error(manager_client):
    response = manager_client.post(reverse("admin:integrations_channel_add"), _form(platform="facebook"))
    assert "needs the app secret that signs its webhooks" in response.content.decode()
    assert not Channel.objects.exists()


def test_replay_action_processes_selected_events(manager_client, django_capture_on_commit_callbacks):
    from integrations.models import WebhookEvent

    channel = factories.channel(platform=Platform.TELEGRAM)
    event = WebhookEvent.objects.create(
        platform=Platform.TELEGRAM, channel=channel, status=WebhookEvent.Status.FAILED, received_at="2026-11-25T10:00Z",
        body='{"update_id": 1, "message": {"message_id": 5, "date": 1764064800, "text": "hi", '
             '"from": {"id": 9, "is_bot": false, "first_name": "Ann"}, "chat": {"id": 9, "type": "private"}}}',
    )
    response = manager_client.post(reverse("admin:integrations_webhookevent_changelist"),
                                   {"action": "replay", "_selected_action": [event.pk]}, follow=True)
    assert "Replayed: 1 processed" in response.content.decode()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
