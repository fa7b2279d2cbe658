"""System checks for what an operator must do before serving (`manage.py check` runs them)."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.staticfiles)
def static_files_collected_check(app_configs, **kwargs) -> list[CheckWarning]:
    """Production serves only what collectstatic gathered: without it pages have no styles
    and no scripts."""
    if settings.DEBUG or not settings.STATIC_ROOT:
        return []
    if (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        return []
    return [
        CheckWarning(
            f"Static files have not been collected into {settings.STATIC_ROOT}: pages will have no "
            "styles or scripts.",
            hint="Run `manage.py collectstatic --noinput` (the Procfile's release step does).",
            id="helpdesk.W001",
        )
    ]
