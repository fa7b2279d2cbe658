from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from inbox.models import Conversation, Tag
from integrations.models import Channel, Platform
from sla import clockmath


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a key at all, e.g. "../x"
        raise ValidationError(
            "“%(value)s” is not an IANA time zone, such as Europe/Rome.", params={"value": value}
        ) from None


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class BusinessCalendar(models.Model):
    """When a team works: a weekly schedule in one time zone, minus holidays."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA name, e.g. Europe/Rome.",
    )
    always_open = models.BooleanField(
        default=False,
        help_text="24/7: every hour counts; the weekly schedule and holidays are ignored.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkingInterval(models.Model):
    """One opening on one weekday, in the calendar's local time. Several per day make split
    shifts; an end of 00:00 means midnight at the end of the day."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")) | Q(end=time(0)),
                name="workinginterval_end_after_start",
                violation_error_message="The end must be after the start (00:00 means midnight).",
            ),
        ]
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class Holiday(models.Model):
    """A whole local day on which the calendar is closed."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=200, blank=True)
    recurs_yearly = models.BooleanField(
        default=False, help_text="Closed on this day and month every year."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")
        ]
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class Policy(models.Model):
    """Targets for the conversations it matches. Active policies are tried in `position`
    order; the first whose conditions all hold applies (an empty condition holds for every
    conversation); when none does, the default policy applies."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(
        default=100, help_text="Lower positions are tried first."
    )
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(
        default=False, help_text="Applies when no other policy matches."
    )
    business_hours = models.BooleanField(
        default=True, help_text="Count only the calendar's business hours; off: wall-clock time."
    )
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    warning_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Warn this many business minutes before the deadline."
    )
    warning_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="Or warn once this share of the target has been used.",
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices, blank=True)
    source = models.CharField(max_length=8, choices=Conversation.Source.choices, blank=True)
    priority = models.CharField(max_length=8, choices=Conversation.Priority.choices, blank=True)
    customer_tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="policy_one_default",
                violation_error_message="Another policy is already the default.",
            ),
            models.CheckConstraint(
                condition=Q(warning_minutes__isnull=True) | Q(warning_percent__isnull=True),
                name="policy_one_warning_threshold",
                violation_error_message="Warn in minutes or in percent, not both.",
            ),
            models.CheckConstraint(
                condition=Q(business_hours=False) | Q(calendar__isnull=False),
                name="policy_business_hours_need_calendar",
                violation_error_message="Business hours are counted on a calendar: choose one.",
            ),
        ]
        ordering = ["position", "id"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name

    def warning_point(self, budget: timedelta) -> timedelta | None:
        """How much of `budget` a clock may use before it warns; None: it never warns."""
        return clockmath.warning_point(
            budget=budget, minutes=self.warning_minutes, percent=self.warning_percent
        )


class PolicyTarget(models.Model):
    """A policy's targets for conversations of one priority; an empty target is not tracked."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=8, choices=Conversation.Priority.choices)
    first_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    next_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "priority"], name="policytarget_unique_priority"
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy} · {self.get_priority_display()}"

    def minutes_for(self, target: str) -> int | None:
        return getattr(self, f"{target}_minutes")


class EscalationAction(models.Model):
    """What happens when a clock of the policy is breached."""

    class Action(models.TextChoices):
        RAISE_PRIORITY = "raise_priority", "Raise priority"
        ADD_TAG = "add_tag", "Add tag"
        REASSIGN_TEAM = "reassign_team", "Reassign to team"
        NOTIFY_TEAM_LEAD = "notify_team_lead", "Notify team lead"

    # What each action needs filled in.
    REQUIRED_FIELDS = {
        Action.RAISE_PRIORITY: "priority",
        Action.ADD_TAG: "tag",
        Action.REASSIGN_TEAM: "team_id",
        Action.NOTIFY_TEAM_LEAD: "team_id",
    }

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="escalations")
    on_target = models.CharField(
        max_length=16,
        choices=Target.choices,
        blank=True,
        help_text="Empty: a breach of any target.",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    priority = models.CharField(
        max_length=8,
        choices=Conversation.Priority.choices,
        blank=True,
        help_text="Raise to this priority.",
    )
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # TODO(issue 5): a foreign key to routing's Team once that model exists.
    team_id = models.PositiveIntegerField(null=True, blank=True, help_text="The routing team's id.")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.get_action_display()

    def clean(self) -> None:
        needed = self.REQUIRED_FIELDS.get(self.action)
        if needed and getattr(self, needed) in (None, ""):
            raise ValidationError({needed: f"Required to {self.get_action_display().lower()}."})


class Clock(models.Model):
    """One target of one conversation, in its current cycle. First response runs once; next
    response and resolution start a new cycle each time they restart, and every finished cycle
    leaves a ClockOutcome.

    `deadline` and `warn_at` are when the budget and the warning threshold run out while the
    clock runs; a paused clock keeps them only if they have already passed. `next_check_at` is
    the instant the breach scan has to look at the clock next (null: never), which keeps the
    scan's index limited to clocks that still owe an event.
    """

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"

    class Outcome(models.TextChoices):
        MET = "met", "Met"
        BREACHED = "breached", "Breached"
        CANCELLED = "cancelled", "No longer tracked"

    # No index of its own: `clock_unique_target` and `clock_running_deadline` lead with it.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="sla_clocks", db_index=False
    )
    target = models.CharField(max_length=16, choices=Target.choices)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")
    cycle = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField()
    budget = models.DurationField(help_text="The target, in business time.")
    consumed = models.DurationField(
        help_text="Business time used up to `resumed_at` or `paused_at`."
    )
    resumed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "target"], name="clock_unique_target"),
        ]
        indexes = [
            models.Index(
                fields=["next_check_at"], condition=Q(next_check_at__isnull=False), name="clock_due"
            ),
            # A conversation's nearest running deadline, read per row to order conversations.
            models.Index(
                fields=["conversation", "deadline"],
                condition=Q(state="running"),
                name="clock_running_deadline",
            ),
            # The API's `sla` filter: deadlines passed, warnings reached, breaches recorded.
            models.Index(
                fields=["deadline"], condition=~Q(state="stopped"), name="clock_active_deadline"
            ),
            models.Index(
                fields=["warn_at"], condition=Q(state="running"), name="clock_running_warn_at"
            ),
            models.Index(
                fields=["conversation"],
                condition=Q(breached_at__isnull=False) & ~Q(state="stopped"),
                name="clock_active_breached",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()} of conversation {self.conversation_id} ({self.state})"


class ClockEvent(models.Model):
    """A warning or a breach of one clock cycle, recorded once by the scan."""

    class Kind(models.TextChoices):
        WARNING = "warning", "Warning"
        BREACHED = "breached", "Breached"

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="events")
    cycle = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=16, choices=Target.choices)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(help_text="When the warning threshold or the deadline passed.")
    recorded_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalations = models.JSONField(
        default=list, blank=True, help_text="Each escalation action and its result."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "cycle", "kind"], name="clockevent_once_per_cycle"
            ),
        ]
        indexes = [
            models.Index(fields=["-recorded_at"], name="clockevent_recent"),
            # The escalation sweep reads only breaches still waiting for their escalation.
            models.Index(
                fields=["recorded_at"],
                name="clockevent_unescalated",
                condition=models.Q(kind="breached", escalated_at__isnull=True),
            ),
        ]
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_target_display()} of conversation {self.conversation_id}"


class ClockOutcome(models.Model):
    """How one finished clock cycle went, kept for reports."""

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="outcomes")
    cycle = models.PositiveIntegerField()
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="sla_outcomes"
    )
    target = models.CharField(max_length=16, choices=Target.choices)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")
    priority = models.CharField(max_length=8, choices=Conversation.Priority.choices)
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField()
    breached = models.BooleanField()
    target_seconds = models.PositiveIntegerField()
    business_seconds = models.PositiveIntegerField(
        help_text="Business time the cycle took, pauses excluded."
    )
    wall_seconds = models.PositiveIntegerField(help_text="Wall-clock time from start to stop.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clock", "cycle"], name="clockoutcome_once_per_cycle"),
        ]
        indexes = [models.Index(fields=["stopped_at"], name="clockoutcome_stopped")]
        ordering = ["-stopped_at"]

    def __str__(self) -> str:
        verdict = "breached" if self.breached else "met"
        return f"{self.get_target_display()} of conversation {self.conversation_id}: {verdict}"
