from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from integrations.models import Channel
        from integrations.selectors import signing_channels_forget

        # Cache invalidation only: a changed secret or deactivation applies at once here.
        post_save.connect(signing_channels_forget, sender=Channel, dispatch_uid="signing-cache-save")
        post_delete.connect(signing_channels_forget, sender=Channel, dispatch_uid="signing-cache-delete")
