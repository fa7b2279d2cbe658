from django import forms
from django.contrib import admin

from helpdesk.fields import mask_secret
from integrations.channels import (
    SECRET_FIELDS,
    InvalidChannel,
    channel_account_validate,
    channel_secrets_validate,
)
from integrations.models import Channel, WebhookEvent
from integrations.sending import channel_attention_clear


class ChannelForm(forms.ModelForm):
    """Secrets are write-only: the form never renders a stored value, and a blank field keeps it."""

    api_base_url = forms.URLField(
        required=False, assume_scheme="https", help_text=Channel._meta.get_field("api_base_url").help_text
    )

    class Meta:
        model = Channel
        fields = [
            "platform", "name", "account_id", "mode", "is_active", *SECRET_FIELDS, "api_base_url",
            "needs_attention",
        ]
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRET_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            self.fields[name].required = False
            stored = getattr(self.instance, name) if self.instance.pk else ""
            if stored:
                self.fields[name].help_text = f"Stored: {mask_secret(stored)}. Leave blank to keep it."

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            for name in SECRET_FIELDS:
                if not cleaned.get(name):
                    cleaned[name] = getattr(self.instance, name)
        platform = cleaned.get("platform")
        if platform:
            # The same rules as `manage.py add_channel`, shown as a form error.
            try:
                channel_account_validate(platform=platform, account_id=cleaned.get("account_id", ""))
                channel_secrets_validate(
                    platform=platform, app_secret=cleaned.get("app_secret", ""),
                    access_token=cleaned.get("access_token", ""),
                )
            except InvalidChannel as exc:
                raise forms.ValidationError(exc.message) from exc
        return cleaned


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = [
        "name", "platform", "account_id", "mode", "is_active", "needs_attention", "attention_reason", "webhook_url",
    ]
    list_filter = ["platform", "mode", "is_active", "needs_attention"]
    search_fields = ["name", "account_id"]
    readonly_fields = ["webhook_url", "attention_reason", "created_at", "updated_at"]
    actions = ["attention_clear"]

    @admin.action(description="Clear “needs attention” (the token or permission was fixed)")
    def attention_clear(self, request, queryset):
        cleared = channel_attention_clear(channel_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Cleared {cleared} channel(s).")

    @admin.display(description="Webhook URL")
    def webhook_url(self, channel: Channel) -> str:
        from django.conf import settings

        path = channel.webhook_path() if channel.pk else None
        return f"{settings.PUBLIC_BASE_URL}{path}" if path else "— (polled)"


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["id", "platform", "channel", "source", "status", "attempts", "received_at", "processed_at"]
    list_filter = ["status", "platform", "source"]
    date_hierarchy = "received_at"
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False  # the log holds what platforms sent, nothing typed in

    @admin.action(description="Process the selected events again")
    def replay(self, request, queryset):
        from integrations.services import webhook_events_replay

        outcomes = webhook_events_replay(events=queryset)
        self.message_user(request, "Replayed: " + ", ".join(f"{n} {status}" for status, n in outcomes.items()))
