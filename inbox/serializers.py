"""Read-only API representations of conversations and their threads. They only render what
the selectors loaded; none of them queries the database."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.models import Attachment, Conversation, Customer, CustomerIdentity, Message, Note
from integrations.models import Channel
from sla.serializers import ConversationSlaField


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]


class ChannelSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "platform", "name"]


class CustomerIdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerIdentity
        fields = ["platform", "external_id", "handle", "display_name", "avatar_url"]


class CustomerSerializer(serializers.ModelSerializer):
    identities = CustomerIdentitySerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "display_name", "identities"]


class MessagePreviewSerializer(serializers.ModelSerializer):
    content = serializers.CharField(
        source="preview", read_only=True, help_text="The first 200 characters of the message."
    )

    class Meta:
        model = Message
        fields = ["id", "direction", "sender_type", "content", "created_at"]


class ConversationSerializer(serializers.ModelSerializer):
    channel = ChannelSummarySerializer(read_only=True)
    customer = CustomerSerializer(read_only=True)
    assignee = UserSummarySerializer(read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    last_message = serializers.SerializerMethodField()
    sla = ConversationSlaField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel",
            "customer",
            "source",
            "status",
            "priority",
            "assignee",
            "tags",
            "language",
            "sentiment",
            "crm_contact_id",
            "post_id",
            "post_url",
            "created_at",
            "updated_at",
            "last_message_at",
            "first_response_at",
            "resolved_at",
            "last_message",
            "sla",
        ]

    @extend_schema_field(MessagePreviewSerializer(allow_null=True))
    def get_last_message(self, conversation: Conversation) -> dict | None:
        # `newest_messages` is the one-element list prefetched by `conversation_list`.
        newest = conversation.newest_messages
        return MessagePreviewSerializer(newest[0]).data if newest else None


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["type", "url", "name"]


class MessageSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "sender_type",
            "author",
            "content",
            "content_type",
            "attachments",
            "platform_message_id",
            "reply_to_platform_id",
            "delivery_status",
            "failure_reason",
            "platform_timestamp",
            "created_at",
            "edited_at",
            "deleted_at",
        ]


class NoteSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Note
        fields = ["id", "author", "body", "created_at"]


class ConversationDetailSerializer(ConversationSerializer):
    messages = MessageSerializer(many=True, read_only=True)
    notes = NoteSerializer(many=True, read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages", "notes"]


class ReplyAttachmentSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="An http(s) URL the platform fetches the file from.")
    type = serializers.ChoiceField(choices=Attachment.Type.choices, default=Attachment.Type.IMAGE)


class ReplyCreateSerializer(serializers.Serializer):
    """An agent's reply: text and/or attachments, optionally answering one customer message
    (a comment), or privately (a DM answering a public comment)."""

    text = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    attachments = ReplyAttachmentSerializer(many=True, required=False, default=list)
    reply_to = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of the customer message answered; default: the newest one in a public thread.",
    )
    private = serializers.BooleanField(
        default=False, help_text="Answer a public comment with a private message."
    )
    client_token = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Idempotency key: the same token again returns the first reply instead of sending twice.",
    )


class ReplySerializer(MessageSerializer):
    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "client_token", "reply_kind", "send_attempts"]


class ChannelSyncSerializer(serializers.Serializer):
    channel_id = serializers.IntegerField()
    platform = serializers.CharField()
    name = serializers.CharField()
    needs_attention = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["never", "ok", "failed", "unsupported"])
    synced_at = serializers.DateTimeField(required=False)
    conversations = serializers.IntegerField(required=False)
    error_code = serializers.CharField(required=False)
    message = serializers.CharField(required=False)
    retry_after = serializers.FloatField(required=False, allow_null=True)
