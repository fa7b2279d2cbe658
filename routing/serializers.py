"""API shapes for routing: what assign accepts and answers, agents, and team queues."""

from rest_framework import serializers

from inbox.models import Conversation
from routing.models import Assignment
from routing.presence import Presence
from routing.services.presence import HEARTBEAT_STATUSES


class AssignInputSerializer(serializers.Serializer):
    agent = serializers.IntegerField(required=False, help_text="The agent's (user's) id.")
    team = serializers.IntegerField(required=False, help_text="A team id: transfer to its queue.")
    override = serializers.BooleanField(
        default=False,
        help_text="Assign even beyond the agent's capacity (needs the override permission).",
    )

    def validate(self, attrs: dict) -> dict:
        if ("agent" in attrs) == ("team" in attrs):
            raise serializers.ValidationError("Give either an agent or a team.")
        if attrs["override"] and "team" in attrs:
            raise serializers.ValidationError({"override": "Only applies to an agent."})
        return attrs


class AssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = [
            "id",
            "conversation",
            "agent",
            "team",
            "by",
            "strategy",
            "rule",
            "actor",
            "capacity_override",
            "assigned_at",
        ]


class AssignOutcomeSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    team = serializers.IntegerField(allow_null=True)
    agent = serializers.IntegerField(allow_null=True)
    queued = serializers.BooleanField(help_text="Waiting in the team's queue for an agent.")
    assignment = AssignmentSerializer(allow_null=True)


class LoadSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    dm = serializers.IntegerField()
    public = serializers.IntegerField()


class CapacitySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    dm = serializers.IntegerField(allow_null=True)
    public = serializers.IntegerField(allow_null=True)


class AgentStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="agent.pk")
    username = serializers.CharField(source="agent.user.username")
    name = serializers.CharField(source="agent.__str__")
    presence = serializers.ChoiceField(choices=Presence.choices)
    last_heartbeat_at = serializers.DateTimeField(source="agent.last_heartbeat_at")
    load = LoadSerializer()
    capacity = CapacitySerializer(source="agent.limits")
    teams = serializers.SerializerMethodField()

    def get_teams(self, status) -> list[int]:
        return [team.pk for team in status.agent.teams.all()]


class HeartbeatInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=HEARTBEAT_STATUSES)


class HeartbeatSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    presence = serializers.CharField()
    last_heartbeat_at = serializers.DateTimeField()


class QueuedConversationSerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(help_text="1 is next.")
    sla_deadline = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = Conversation
        fields = ["position", "id", "channel", "source", "priority", "sla_deadline", "created_at"]
