"""One factory per model, with valid defaults and keyword overrides."""

import itertools
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from inbox.models import Attachment, Conversation, Customer, CustomerIdentity, Message, Note, Tag
from integrations.models import Channel, Platform
from integrations.platforms.base import InboundMessage, Sender

_seq = itertools.count(1)

SECRETS = {
    # The shared platforms' own test secrets, so the vendored vectors verify against channels.
    Platform.FACEBOOK: "3f9c2a7e4b1d8f60a5c3e9b7d2f41a86",
    Platform.INSTAGRAM: "3f9c2a7e4b1d8f60a5c3e9b7d2f41a86",
    Platform.X: "kR7vN2pQ9sXw4LmT8cYb1HdF6gJ3aZeU0oIiKqWnVrEtSyPxMl",
    Platform.LINKEDIN: "WPL_AP1.k9Zr4TqVx2Lm8Ns0.Yb3w6Q==",
    Platform.TELEGRAM: "acme-prod_7f3K9pQ2xZvL0wR8",
    Platform.BLUESKY: "",
}


def channel(**overrides) -> Channel:
    platform = overrides.pop("platform", Platform.FACEBOOK)
    fields = {
        "name": f"Channel {next(_seq)}",
        "account_id": str(100000000 + next(_seq)),
        "app_secret": SECRETS[platform],
        "verify_token": "verify-me",
        "access_token": "token-abc-123",
    }
    fields.update(overrides)
    return Channel.objects.create(platform=platform, **fields)


def user(**overrides):
    n = next(_seq)
    fields = {"username": f"agent{n}", "email": f"agent{n}@example.com"}
    fields.update(overrides)
    password = fields.pop("password", "pw-for-tests-only")
    return get_user_model().objects.create_user(password=password, **fields)


def tag(**overrides) -> Tag:
    fields = {"name": f"tag-{next(_seq)}"}
    fields.update(overrides)
    return Tag.objects.create(**fields)


def customer(**overrides) -> Customer:
    fields = {"display_name": f"Customer {next(_seq)}"}
    fields.update(overrides)
    return Customer.objects.create(**fields)


def identity(**overrides) -> CustomerIdentity:
    fields = {"platform": Platform.FACEBOOK, "external_id": str(700000 + next(_seq)), "handle": "someone"}
    fields.update(overrides)
    if "customer" not in fields:
        fields["customer"] = customer()
    return CustomerIdentity.objects.create(**fields)


def conversation(**overrides) -> Conversation:
    now = overrides.pop("now", None) or timezone.now()
    fields = {"source": Conversation.Source.DM, "created_at": now, "updated_at": now, "last_message_at": now}
    fields.update(overrides)
    if "channel" not in fields:
        fields["channel"] = channel()
    if "customer" not in fields:
        fields["customer"] = customer()
    return Conversation.objects.create(**fields)


def message(**overrides) -> Message:
    now = overrides.pop("now", None) or timezone.now()
    fields = {
        "direction": Message.Direction.INBOUND,
        "sender_type": Message.SenderType.CUSTOMER,
        "content": "Hello",
        "created_at": now,
        "platform_message_id": f"m-{next(_seq)}",
    }
    fields.update(overrides)
    if "conversation" not in fields:
        fields["conversation"] = conversation()
    fields.setdefault("channel", fields["conversation"].channel)
    return Message.objects.create(**fields)


def inbound_event(**overrides) -> InboundMessage:
    """A normalized customer DM, as a parser would produce it."""
    fields = {
        "account_id": "acct",
        "platform_message_id": f"m-{next(_seq)}",
        "source": "dm",
        "sender": Sender(external_id="cust-1", handle="cust", display_name="Cust Omer"),
        "timestamp": datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        "text": "Where is my order?",
    }
    fields.update(overrides)
    return InboundMessage(**fields)


def attachment(**overrides) -> Attachment:
    fields = {
        "type": Attachment.Type.IMAGE,
        "url": f"https://cdn.example.com/{next(_seq)}.jpg",
        "name": "",
    }
    fields.update(overrides)
    if "message" not in fields:
        fields["message"] = message()
    return Attachment.objects.create(**fields)


def note(**overrides) -> Note:
    fields = {"body": f"Note {next(_seq)}"}
    fields.update(overrides)
    if "conversation" not in fields:
        fields["conversation"] = conversation()
    return Note.objects.create(**fields)


def skill(**overrides):
    from routing.models import Skill

    fields = {"name": f"skill-{next(_seq)}"}
    fields.update(overrides)
    return Skill.objects.create(**fields)


def agent(**overrides):
    """An online agent (fresh heartbeat) with room for five conversations. `skills` maps a
    Skill to its level."""
    from routing.models import Agent, AgentSkill
    from routing.presence import Presence

    skills = overrides.pop("skills", {})
    fields = {"capacity": 5, "presence": Presence.ONLINE, "last_heartbeat_at": timezone.now()}
    fields.update(overrides)
    if "user" not in fields:
        fields["user"] = user()
    profile = Agent.objects.create(**fields)
    AgentSkill.objects.bulk_create(
        AgentSkill(agent=profile, skill=skill_row, level=level) for skill_row, level in skills.items()
    )
    return profile


def team(**overrides):
    """A round-robin team; `channels` and `members` are lists."""
    from routing.models import Team

    channels = overrides.pop("channels", [])
    members = overrides.pop("members", [])
    fields = {"name": f"Team {next(_seq)}"}
    fields.update(overrides)
    created = Team.objects.create(**fields)
    created.channels.set(channels)
    created.members.set(members)
    return created


def rule(**overrides):
    """An active routing rule; `customer_tags` and `add_tags` are lists."""
    from routing.models import Rule

    customer_tags = overrides.pop("customer_tags", [])
    add_tags = overrides.pop("add_tags", [])
    fields = {"name": f"Rule {next(_seq)}"}
    fields.update(overrides)
    created = Rule.objects.create(**fields)
    created.customer_tags.set(customer_tags)
    created.add_tags.set(add_tags)
    return created


def business_calendar(**overrides):
    """A calendar in Europe/Rome; `schedule` maps weekdays (Monday is 0) to (start, end) times,
    by default Monday to Friday 09:00–17:00."""
    from datetime import time

    from sla.models import BusinessCalendar, WorkingInterval

    schedule = overrides.pop("schedule", {weekday: [(time(9), time(17))] for weekday in range(5)})
    fields = {"name": f"Calendar {next(_seq)}", "time_zone": "Europe/Rome"}
    fields.update(overrides)
    created = BusinessCalendar.objects.create(**fields)
    WorkingInterval.objects.bulk_create(
        WorkingInterval(calendar=created, weekday=weekday, start=start, end=end)
        for weekday, intervals in schedule.items()
        for start, end in intervals
    )
    return created


def holiday(**overrides):
    from datetime import date

    from sla.models import Holiday

    fields = {"date": date(2026, 12, 25), "name": "Christmas"}
    fields.update(overrides)
    if "calendar" not in fields:
        fields["calendar"] = business_calendar()
    return Holiday.objects.create(**fields)


def sla_policy(**overrides):
    """An active wall-clock policy; `targets` maps priorities to (first response, next
    response, resolution) minutes, by default (60, 30, 480) for every priority."""
    from sla.models import Policy, PolicyTarget

    targets = overrides.pop("targets", {priority: (60, 30, 480) for priority in Conversation.Priority.values})
    fields = {"name": f"Policy {next(_seq)}", "business_hours": False}
    fields.update(overrides)
    created = Policy.objects.create(**fields)
    PolicyTarget.objects.bulk_create(
        PolicyTarget(
            policy=created,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
        )
        for priority, (first, following, resolution) in targets.items()
    )
    return created


def escalation_action(**overrides):
    from sla.models import EscalationAction

    fields = {"action": EscalationAction.Action.NOTIFY_TEAM_LEAD, "team_id": 1}
    fields.update(overrides)
    if "policy" not in fields:
        fields["policy"] = sla_policy()
    return EscalationAction.objects.create(**fields)


def canned_reply(**overrides):
    from inbox.models import CannedReply

    fields = {"title": f"Canned {next(_seq)}", "body": "Hi {{customer.first_name}}, thanks for writing!"}
    fields.update(overrides)
    return CannedReply.objects.create(**fields)
