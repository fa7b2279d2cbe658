from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from inbox.models import Tag
        from routing.config import config_changed
        from routing.models import Rule, Team

        # Cache invalidation only: what routing snapshots (routing/config.py) changed.
        for model in (Rule, Team):
            post_save.connect(config_changed, sender=model, dispatch_uid=f"routing-config-{model.__name__}-save")
        for model in (Rule, Team, Tag):
            post_delete.connect(
                config_changed, sender=model, dispatch_uid=f"routing-config-{model.__name__}-delete"
            )
        for through in (Rule.customer_tags.through, Rule.add_tags.through, Team.channels.through):
            m2m_changed.connect(
                config_changed, sender=through, dispatch_uid=f"routing-config-{through.__name__}"
            )
