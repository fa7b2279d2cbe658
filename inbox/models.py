from django.conf import settings
from django.db import models
from django.db.models import Q

from integrations.models import Channel, Platform


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True)
    color = models.CharField(max_length=7, default="#6b7280", help_text="Hex colour, e.g. #2563eb.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    display_name = models.CharField(max_length=255, blank=True)
    crm_contact_id = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=16, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.display_name or f"Customer {self.pk}"


class CustomerIdentity(models.Model):
    """The customer as one platform knows them. Meta's ids are page-scoped, so the same person
    on two Pages has two identities; merging them is a manager's decision."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    external_id = models.CharField(max_length=255)
    handle = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="identity_unique_external_id"),
        ]
        verbose_name_plural = "customer identities"

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.handle or self.display_name or self.external_id}"


class Conversation(models.Model):
    class Source(models.TextChoices):
        DM = "dm", "Direct message"
        COMMENT = "comment", "Comment"
        MENTION = "mention", "Mention"
        REVIEW = "review", "Review"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    ACTIVE_STATUSES = (Status.OPEN, Status.PENDING)

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="conversations")
    source = models.CharField(max_length=8, choices=Source.choices)
    # What makes a thread: "" for the customer's DMs with the channel, the post (or chat)
    # id for public threads. One active conversation per (channel, customer, thread_key).
    thread_key = models.CharField(max_length=255, blank=True)
    # The platform's own id for the thread, needed to answer in it (Bluesky convoId,
    # Telegram chat id, the comment to reply under).
    external_thread_id = models.CharField(max_length=255, blank=True)
    post_id = models.CharField(max_length=255, blank=True)
    post_url = models.URLField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_conversations"
    )
    team = models.ForeignKey(
        "routing.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    language = models.CharField(max_length=16, blank=True)
    sentiment = models.CharField(max_length=16, blank=True)
    crm_contact_id = models.CharField(max_length=255, blank=True)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The earlier conversation of the same thread, when this one started after it was resolved.",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "customer", "thread_key"],
                condition=Q(status__in=["open", "pending"]),
                name="conversation_one_active_per_thread",
            ),
        ]
        indexes = [
            models.Index(fields=["-last_message_at", "-id"], name="conversation_activity"),
            models.Index(fields=["channel", "customer", "thread_key", "-created_at"], name="conversation_thread"),
            models.Index(fields=["status", "-last_message_at"], name="conversation_status_activity"),
            # Routing counts each agent's load here: resolved conversations pile up, these not.
            models.Index(
                fields=["assignee", "source"],
                condition=Q(status__in=["open", "pending"]),
                name="conversation_assignee_load",
            ),
        ]
        ordering = ["-last_message_at", "-id"]

    def __str__(self) -> str:
        return f"Conversation {self.pk} ({self.get_source_display()}, {self.status})"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class SenderType(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        BOT = "bot", "Bot"

    class ContentType(models.TextChoices):
        TEXT = "text", "Text"
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"
        STICKER = "sticker", "Sticker"
        ATTACHMENT = "attachment", "Attachment"

    class DeliveryStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"

    class ReplyKind(models.TextChoices):
        # How an agent's reply reaches the customer: in the conversation's own thread (a DM
        # in a DM conversation, a comment or reply post in a public one), or privately, as a
        # DM that answers a public comment (Meta's private replies).
        THREAD = "thread", "In the thread"
        PRIVATE = "private", "Private reply"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # Denormalised from the conversation so the database can hold the idempotency key.
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    sender_type = models.CharField(max_length=8, choices=SenderType.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content = models.TextField(blank=True)
    content_type = models.CharField(max_length=10, choices=ContentType.choices, default=ContentType.TEXT)
    # Null until the platform has given the message an id (an outbound reply before sending):
    # NULLs are distinct in the unique constraint, "" would not be.
    platform_message_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    reply_to_platform_id = models.CharField(max_length=255, blank=True)
    delivery_status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.SENT)
    failure_reason = models.CharField(max_length=500, blank=True)
    platform_timestamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Outbound replies only. The idempotency key of the request that created the reply: a
    # repeated request returns the same message instead of sending twice.
    client_token = models.UUIDField(null=True, blank=True, unique=True)
    reply_kind = models.CharField(max_length=8, choices=ReplyKind.choices, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    # Platform ids of the parts already accepted, when a reply goes out as several platform
    # messages (a long Telegram text, a Messenger text and its images): a retried send
    # resumes after them instead of repeating them.
    part_ids = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "platform_message_id"], name="message_unique_platform_id"),
        ]
        indexes = [models.Index(fields=["conversation", "created_at", "id"], name="message_thread_order")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} message {self.pk}"


class Attachment(models.Model):
    class Type(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"
        STICKER = "sticker", "Sticker"
        FILE = "file", "File"
        LINK = "link", "Link"

    # Files fetched through the platform's API when needed: Telegram's download URL would
    # contain the bot token, and LinkedIn names images by URN.
    FILE_REFERENCE_PREFIXES = ("tg-file:", "urn:li:image:")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    type = models.CharField(max_length=8, choices=Type.choices)
    url = models.CharField(max_length=2000, blank=True, help_text="An http(s) URL or a platform file reference.")
    name = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return self.name or self.url or self.type


class Note(models.Model):
    """An internal note on a conversation: seen by the team, never sent to the customer."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note {self.pk} on conversation {self.conversation_id}"


class CannedReply(models.Model):
    """A prepared answer an agent inserts into the composer. Placeholders such as
    `{{customer.name}}` are filled in for the open conversation (see inbox.canned)."""

    title = models.CharField(max_length=100, unique=True)
    body = models.TextField(help_text="Placeholders: {{customer.name}}, {{customer.first_name}}, {{agent.name}}, {{channel.name}}.")

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class ConversationRead(models.Model):
    """How far one user has read a conversation. Messages are compared by id, not by time:
    a platform's timestamp can be older than a message's arrival."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_message_id = models.BigIntegerField(help_text="The newest message when the user last read it.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="conversationread_unique_user"),
        ]

    def __str__(self) -> str:
        return f"User {self.user_id} read conversation {self.conversation_id}"
