from django import forms
from django.contrib import admin
from django.utils import timezone

from routing.models import Agent, AgentSkill, Assignment, Rule, Skill, Team
from routing.selectors import open_loads
from routing.services import agent_queues_drain_on_commit, queues_drain_on_commit


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "category"]
    list_filter = ["category"]
    search_fields = ["name"]


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 1
    autocomplete_fields = ["skill"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "presence_now", "capacity", "dm_capacity", "public_capacity"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    autocomplete_fields = ["user"]
    fields = [
        "user",
        "capacity",
        "dm_capacity",
        "public_capacity",
        "presence_now",
        "last_heartbeat_at",
        "open_load",
    ]
    readonly_fields = ["presence_now", "last_heartbeat_at", "open_load"]
    inlines = [AgentSkillInline]
    list_select_related = ["user"]
    ordering = ["user__username"]

    def get_readonly_fields(self, request, obj=None):
        # The profile's key is the user's: it cannot move to another user.
        return [*self.readonly_fields, "user"] if obj else self.readonly_fields

    @admin.display(description="Presence")
    def presence_now(self, agent: Agent) -> str:
        return agent.presence_at(timezone.now()) if agent.pk else "—"

    @admin.display(description="Open conversations")
    def open_load(self, agent: Agent) -> int | str:
        return open_loads(agent_ids=[agent.pk])[agent.pk].total if agent.pk else "—"

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # More capacity or a new skill may let the agent take queued conversations.
        agent_queues_drain_on_commit(agent_id=form.instance.pk)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "strategy", "hand_back_offline"]
    list_filter = ["strategy"]
    search_fields = ["name"]
    filter_horizontal = ["channels", "members"]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # New members or channels, or another strategy, may let queued conversations go out.
        queues_drain_on_commit(team_ids=[form.instance.pk])


RULE_HEADER = ["name", "position", "is_active"]
RULE_CONDITIONS = [
    "platform",
    "channel",
    "source",
    "language",
    "sentiment",
    "priority",
    "keywords",
    "customer_tags",
]
RULE_ACTIONS = ["team", "set_priority", "add_tags", "required_skill", "required_level"]


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = RULE_HEADER + RULE_CONDITIONS + RULE_ACTIONS

    def clean(self) -> dict:
        cleaned = super().clean()
        if not any(
            cleaned.get(name) for name in ("team", "set_priority", "add_tags", "required_skill")
        ):
            raise forms.ValidationError(
                "Choose at least one action: send to a team, set a priority, add tags or "
                "require a skill. A rule without one changes nothing."
            )
        return cleaned


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = ["name", "position", "is_active", "team", "set_priority", "required_skill"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "team"]
    search_fields = ["name", "keywords"]
    filter_horizontal = ["customer_tags", "add_tags"]
    fieldsets = [
        (None, {"fields": RULE_HEADER}),
        ("Conditions (all that are filled in must hold)", {"fields": RULE_CONDITIONS}),
        ("Actions", {"fields": RULE_ACTIONS}),
    ]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """The assignment log: read-only, written only by routing's services."""

    list_display = [
        "assigned_at",
        "conversation",
        "agent",
        "team",
        "by",
        "strategy",
        "rule",
        "actor",
    ]
    list_filter = ["by", "strategy", "team"]
    date_hierarchy = "assigned_at"
    list_select_related = ["agent__user", "team", "rule", "actor"]
    readonly_fields = [field.name for field in Assignment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
