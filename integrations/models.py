from django.conf import settings
from django.db import models
from django.urls import reverse

from helpdesk.fields import EncryptedTextField


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X"
    LINKEDIN = "linkedin", "LinkedIn"
    BLUESKY = "bluesky", "Bluesky"
    TELEGRAM = "telegram", "Telegram"


DEFAULT_API_BASE_URLS = {
    Platform.FACEBOOK: "https://graph.facebook.com/v21.0",
    Platform.INSTAGRAM: "https://graph.facebook.com/v21.0",
    Platform.X: "https://api.x.com",
    Platform.LINKEDIN: "https://api.linkedin.com",
    Platform.BLUESKY: "https://bsky.social",
    Platform.TELEGRAM: "https://api.telegram.org",
}


class Channel(models.Model):
    """One connected account: a Facebook Page, an Instagram business account, an X account,
    a LinkedIn organization, a Bluesky account or a Telegram bot."""

    class Mode(models.TextChoices):
        LIVE = "live", "Live"
        SANDBOX = "sandbox", "Sandbox"

    platform = models.CharField(max_length=16, choices=Platform.choices)
    name = models.CharField(max_length=200)
    # The id the platform puts in each event: Page id, Instagram account id, X user id
    # (`for_user_id`), organization URN, Bluesky DID, Telegram bot id.
    account_id = models.CharField(max_length=255)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.LIVE)
    is_active = models.BooleanField(default=True)
    # Key that signs or authenticates inbound webhooks: Meta app secret, X consumer secret,
    # LinkedIn client secret, Telegram `secret_token`.
    app_secret = EncryptedTextField(blank=True)
    # Meta's `hub.verify_token` for the subscription handshake.
    verify_token = EncryptedTextField(blank=True)
    # Token for calling the platform's API: Page token, X user token, LinkedIn token,
    # Bluesky app password, Telegram bot token.
    access_token = EncryptedTextField(blank=True)
    api_base_url = models.URLField(blank=True, help_text="Leave empty for the platform's public API.")
    # Polling cursors (Bluesky chat log and notifications), persisted after each committed page.
    poll_state = models.JSONField(default=dict, blank=True)
    needs_attention = models.BooleanField(default=False)
    attention_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "account_id"], name="channel_unique_account"),
        ]
        ordering = ["platform", "name"]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.name}"

    @property
    def effective_api_base_url(self) -> str:
        """Where the channel's API calls go: its own URL if set; a sandbox channel never
        reaches the real platform, but this deployment's fake one (sandbox.urls)."""
        if self.api_base_url:
            return self.api_base_url.rstrip("/")
        if self.mode == self.Mode.SANDBOX:
            return f"{settings.PUBLIC_BASE_URL}/sandbox/{self.platform}"
        return DEFAULT_API_BASE_URLS[self.platform]

    def webhook_path(self) -> str | None:
        """Path the platform posts to, or None for platforms that are polled."""
        if self.platform == Platform.BLUESKY:
            return None
        if self.platform == Platform.TELEGRAM:
            return reverse("webhooks:telegram", kwargs={"channel_id": self.pk})
        return reverse("webhooks:app", kwargs={"platform": self.platform})


class WebhookEvent(models.Model):
    """One accepted raw delivery (or one polled page), kept as received: the durable log that
    processing, retries and replays start from."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        POLL = "poll", "Poll"

    platform = models.CharField(max_length=16, choices=Platform.choices)
    # Set when the delivery names one channel (Telegram's URL, a polled page); app-level
    # deliveries may batch several accounts and are routed per event while processing.
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEBHOOK)
    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "enqueued_at"], name="webhookevent_status_enqueued"),
        ]
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} event {self.pk} ({self.status})"
