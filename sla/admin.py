from django.contrib import admin, messages

from sla.forms import BusinessCalendarForm, WorkingIntervalFormSet
from sla.models import (
    BusinessCalendar,
    ClockEvent,
    ClockOutcome,
    EscalationAction,
    Holiday,
    Policy,
    PolicyTarget,
    WorkingInterval,
)
from sla.services.holidays import calendar_holidays_import


class WorkingIntervalInline(admin.TabularInline):
    model = WorkingInterval
    formset = WorkingIntervalFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = BusinessCalendarForm
    list_display = ["name", "time_zone", "always_open"]
    search_fields = ["name"]
    inlines = [WorkingIntervalInline, HolidayInline]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        imported = form.cleaned_data.get("holidays_ics")
        if imported:
            count = calendar_holidays_import(calendar=form.instance, holidays=imported.holidays)
            self.message_user(request, f"Imported {count} holiday dates.")
            if imported.skipped:
                self.message_user(
                    request,
                    "Left out events that repeat other than yearly: " + ", ".join(imported.skipped),
                    level=messages.WARNING,
                )


class PolicyTargetInline(admin.TabularInline):
    model = PolicyTarget
    extra = 0


class EscalationActionInline(admin.TabularInline):
    model = EscalationAction
    extra = 0


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active", "is_default", "business_hours", "calendar"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "business_hours"]
    fieldsets = [
        (None, {"fields": ["name", "position", "is_active", "is_default"]}),
        ("Time", {"fields": ["business_hours", "calendar", "warning_minutes", "warning_percent"]}),
        (
            "Conditions (empty holds for every conversation)",
            {"fields": ["channel", "platform", "source", "priority", "customer_tag"]},
        ),
    ]
    inlines = [PolicyTargetInline, EscalationActionInline]


class ReportAdmin(admin.ModelAdmin):
    """Events and outcomes are written by the clocks and the scan, and only read here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClockEvent)
class ClockEventAdmin(ReportAdmin):
    list_display = ["recorded_at", "kind", "target", "conversation", "due_at", "escalated_at"]
    list_filter = ["kind", "target"]
    raw_id_fields = ["conversation", "clock"]


@admin.register(ClockOutcome)
class ClockOutcomeAdmin(ReportAdmin):
    list_display = [
        "stopped_at",
        "target",
        "conversation",
        "breached",
        "business_seconds",
        "wall_seconds",
    ]
    list_filter = ["target", "breached", "priority"]
    raw_id_fields = ["conversation", "clock"]
