from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Fake platforms for the demo and tests: the sandbox channels' APIs, the Bluesky PDS they
    poll, and the simulator that posts webhooks. Installed only when SANDBOX_PLATFORMS_ENABLED."""

    name = "sandbox"
    verbose_name = "Sandbox platforms"
