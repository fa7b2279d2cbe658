from django.contrib import admin

from integrations.admin import ChannelAdmin
from integrations.models import Channel
from sandbox.platform import sandbox_failure_set


class SandboxChannelAdmin(ChannelAdmin):
    """The channel admin, plus actions that make a sandbox channel's fake API fail on its next call."""

    actions = [*ChannelAdmin.actions, "sandbox_fail_429", "sandbox_fail_500", "sandbox_fail_expired_token"]

    def _sandbox_fail(self, request, queryset, mode: str) -> None:
        sandboxed = queryset.filter(mode=Channel.Mode.SANDBOX).values_list("platform", flat=True)
        platforms = sorted(set(sandboxed))
        for platform in platforms:
            sandbox_failure_set(platform=platform, mode=mode)
        names = ", ".join(platforms) or "(no sandbox channel selected)"
        self.message_user(request, f"Sandbox API of {names}: the next call answers {mode}.")

    @admin.action(description="Sandbox: answer the next call with 429 and Retry-After")
    def sandbox_fail_429(self, request, queryset):
        self._sandbox_fail(request, queryset, "429")

    @admin.action(description="Sandbox: answer the next call with a server error")
    def sandbox_fail_500(self, request, queryset):
        self._sandbox_fail(request, queryset, "500")

    @admin.action(description="Sandbox: answer the next call with an expired token")
    def sandbox_fail_expired_token(self, request, queryset):
        self._sandbox_fail(request, queryset, "expired_token")


# The sandbox app is installed after integrations, whose admin registered Channel first.
admin.site.unregister(Channel)
admin.site.register(Channel, SandboxChannelAdmin)
