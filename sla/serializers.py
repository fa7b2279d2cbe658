"""The SLA part of a conversation in the API. Renders what `sla.selectors` loaded: add
`conversations_with_sla` to the queryset, or each conversation costs three queries."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.models import Conversation
from sla.clockmath import Status
from sla.models import Target
from sla.selectors import clock_readings


class ClockReadingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[status.value for status in Status])
    deadline = serializers.DateTimeField(
        allow_null=True,
        help_text="When the target is or was missed; null while paused before reaching it.",
    )
    remaining_seconds = serializers.IntegerField(
        allow_null=True,
        help_text="Business seconds left, negative once overdue; null once the clock stopped.",
    )


class ConversationSlaSerializer(serializers.Serializer):
    first_response = ClockReadingSerializer(allow_null=True)
    next_response = ClockReadingSerializer(allow_null=True)
    resolution = ClockReadingSerializer(allow_null=True)


@extend_schema_field(ConversationSlaSerializer)
class ConversationSlaField(serializers.Field):
    """Read-only: each SLA target of the conversation (null when not tracked) with its status,
    deadline and remaining business seconds, read when the response is rendered.

    Declare it on a conversation serializer as `sla = ConversationSlaField()`.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, conversation: Conversation) -> dict:
        readings = clock_readings(conversation, now=timezone.now())
        return ConversationSlaSerializer(
            {target: readings.get(target) for target in Target.values}
        ).data
