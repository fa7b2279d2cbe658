"""Who can take a conversation (agents, their skills, capacity and presence), how a team hands
them out (strategy), what rules decide first, and the log of every assignment."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from inbox.models import Conversation, Tag
from integrations.models import Channel, Platform
from routing.capacity import Capacity
from routing.presence import Presence, effective_presence

SKILL_LEVELS = [MinValueValidator(1), MaxValueValidator(5)]


class Skill(models.Model):
    class Category(models.TextChoices):
        LANGUAGE = "language", "Language"
        PLATFORM = "platform", "Platform"
        TOPIC = "topic", "Topic"

    name = models.CharField(max_length=64, unique=True)
    category = models.CharField(max_length=10, choices=Category.choices, default=Category.TOPIC)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    """The routing profile of a user who answers conversations. Its primary key is the user's,
    so `Conversation.assignee_id` is the agent's id."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="agent"
    )
    capacity = models.PositiveSmallIntegerField(
        default=5, help_text="Most open or pending conversations the agent holds at once."
    )
    dm_capacity = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Optional lower limit for direct messages alone."
    )
    public_capacity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Optional lower limit for public comments, mentions and reviews alone.",
    )
    skills = models.ManyToManyField(Skill, through="AgentSkill", blank=True, related_name="agents")
    # What the console last said; it counts only while heartbeats keep coming (see presence.py).
    presence = models.CharField(max_length=8, choices=Presence.choices, default=Presence.OFFLINE)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [
            ("assign_conversation", "Can assign and transfer conversations"),
            ("override_capacity", "Can assign a conversation beyond an agent's capacity"),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def limits(self) -> Capacity:
        return Capacity(total=self.capacity, dm=self.dm_capacity, public=self.public_capacity)

    def presence_at(self, now: datetime) -> str:
        return effective_presence(
            stated=self.presence, last_heartbeat_at=self.last_heartbeat_at, now=now
        )


class SkillLevel(models.Model):
    """A skill at a level: what an agent has, or what a conversation requires."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField(
        default=1, validators=SKILL_LEVELS, help_text="1 (basic) to 5 (expert)."
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.skill} {self.level}"


class AgentSkill(SkillLevel):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="skill_levels")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "skill"], name="agentskill_unique_skill")
        ]


class Team(models.Model):
    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round-robin", "Round-robin"
        SKILL_BASED = "skill-based", "Skill-based"
        LOAD_BALANCED = "load-balanced", "Load-balanced"

    name = models.CharField(max_length=100, unique=True)
    strategy = models.CharField(
        max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    channels = models.ManyToManyField(
        Channel,
        blank=True,
        related_name="teams",
        help_text="Inboxes this team serves. When several teams serve one, rules choose; "
        "otherwise the oldest team gets the conversation.",
    )
    members = models.ManyToManyField(Agent, blank=True, related_name="teams")
    hand_back_offline = models.BooleanField(
        default=False,
        help_text="Return an offline agent's open conversations in this team to the queue.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    """Evaluated in order before the team's strategy. Each filled-in condition must hold (an
    empty one matches everything); every matching rule applies its actions, and for the team
    and the priority the first matching rule that sets one wins."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0, help_text="Lower runs first.")
    is_active = models.BooleanField(default=True)
    # Conditions
    platform = models.CharField(max_length=16, choices=Platform.choices, blank=True)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Conversation.Source.choices, blank=True)
    language = models.CharField(
        max_length=16, blank=True, help_text="A language code; 'en' also matches 'en-GB'."
    )
    sentiment = models.CharField(max_length=16, blank=True, help_text="e.g. negative")
    priority = models.CharField(max_length=8, choices=Conversation.Priority.choices, blank=True)
    keywords = models.TextField(
        blank=True,
        help_text="One word or phrase per line; matches when the first message contains any "
        "of them as whole words, ignoring case.",
    )
    customer_tags = models.ManyToManyField(
        Tag, blank=True, related_name="routing_rules_matching+", help_text="Any of these."
    )
    # Actions
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="rules"
    )
    set_priority = models.CharField(max_length=8, choices=Conversation.Priority.choices, blank=True)
    add_tags = models.ManyToManyField(Tag, blank=True, related_name="routing_rules_adding+")
    required_skill = models.ForeignKey(
        Skill, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    required_level = models.PositiveSmallIntegerField(default=1, validators=SKILL_LEVELS)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [line.strip() for line in self.keywords.splitlines() if line.strip()]

    def clean(self) -> None:
        if self.channel_id and self.platform and self.channel.platform != self.platform:
            raise ValidationError(
                {
                    "channel": f"This channel is on {self.channel.get_platform_display()}, not "
                    f"{self.get_platform_display()}: the rule could never match."
                }
            )
        if self.required_level != 1 and not self.required_skill_id:
            raise ValidationError({"required_level": "Choose the skill this level is for."})


class ConversationRouting(models.Model):
    """What routing decided for a conversation the first time it saw it, when a rule chose its
    team or required skills; a reopened or queued conversation is routed again on the same
    decision rather than on rules edited since. A conversation without one that has a team
    was routed by the team's strategy alone."""

    conversation = models.OneToOneField(
        Conversation, primary_key=True, on_delete=models.CASCADE, related_name="routing"
    )
    rule = models.ForeignKey(
        Rule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The first rule that chose the team or required a skill.",
    )
    required_skills = models.ManyToManyField(Skill, through="RequiredSkill", related_name="+")
    routed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Routing of conversation {self.conversation_id}"


class RequiredSkill(SkillLevel):
    routing = models.ForeignKey(ConversationRouting, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["routing", "skill"], name="requiredskill_unique_skill")
        ]


class Assignment(models.Model):
    """One hand-over of a conversation to an agent: the audit log, and the source of each
    team's rotation and each agent's idle time."""

    class By(models.TextChoices):
        STRATEGY = "strategy", "Strategy"
        RULE = "rule", "Rule"
        PERSON = "person", "Person"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="assignments"
    )
    # Null only once the agent's profile is deleted: the log outlives it.
    agent = models.ForeignKey(
        Agent, null=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    by = models.CharField(max_length=8, choices=By.choices)
    strategy = models.CharField(
        max_length=16,
        choices=Team.Strategy.choices,
        blank=True,
        help_text="The strategy that picked the agent; empty when a person did.",
    )
    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The person who assigned or transferred the conversation.",
    )
    capacity_override = models.BooleanField(default=False)
    assigned_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["team", "agent", "-assigned_at"], name="assignment_team_rotation"),
            models.Index(fields=["agent", "-assigned_at"], name="assignment_agent_recent"),
        ]
        ordering = ["-assigned_at", "-pk"]

    def __str__(self) -> str:
        return f"Conversation {self.conversation_id} to agent {self.agent_id}"
