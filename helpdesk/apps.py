from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"

    def ready(self) -> None:
        # Register the project's system checks, and the task signals that bind log ids.
        from helpdesk import checks, logcontext  # noqa: F401
