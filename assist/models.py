from django.conf import settings
from django.db import models


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class MessageInsight(models.Model):
    """What assist found in one customer message."""

    message = models.OneToOneField(
        "inbox.Message", primary_key=True, on_delete=models.CASCADE, related_name="insight"
    )
    language = models.CharField(max_length=8, blank=True, help_text="ISO 639-1; empty when the message has no words.")
    language_confidence = models.FloatField()
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices)
    sentiment_score = models.FloatField(help_text="From -1 (most negative) to 1.")

    def __str__(self) -> str:
        return f"Insight on message {self.message_id}"


class ConversationInsight(models.Model):
    """The evidence behind a conversation's language and sentiment, accumulated message by
    message so that one short message cannot flip them."""

    conversation = models.OneToOneField(
        "inbox.Conversation", primary_key=True, on_delete=models.CASCADE, related_name="insight"
    )
    # Language code -> the summed weight of the customer's messages in it.
    language_evidence = models.JSONField(default=dict)
    sentiment_score = models.FloatField(default=0.0, help_text="Recent messages' scores, the latest weighing most.")
    sentiment_trend = models.FloatField(default=0.0, help_text="How much the latest message moved the score.")
    messages_classified = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Insight on conversation {self.conversation_id}"


class KnowledgeArticle(models.Model):
    """An answer managers write once, suggested to agents when a customer asks about it."""

    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Placeholders as in canned replies: {{customer.name}}, {{agent.name}}…")
    language = models.CharField(max_length=8, help_text="ISO 639-1, e.g. it, en, es, de, fr, pt.")
    tags = models.CharField(max_length=500, blank=True, help_text="Comma-separated; searched like the text.")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ReplyExample(models.Model):
    """What the customer asked and the agent reply that resolved it: one per resolved
    conversation, the team's own answers to suggest again."""

    # Its own growing id, not the conversation's: the index adds the rows it has not seen by id,
    # and an old conversation resolved again is written anew.
    conversation = models.OneToOneField("inbox.Conversation", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("integrations.Channel", on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=8, blank=True)
    customer_text = models.TextField()
    reply_text = models.TextField()
    resolved_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Reply example from conversation {self.conversation_id}"


class ChannelAssist(models.Model):
    """Assist's switch for one channel; a channel without a row has suggestions on."""

    channel = models.OneToOneField(
        "integrations.Channel", primary_key=True, on_delete=models.CASCADE, related_name="assist"
    )
    ai_assist_enabled = models.BooleanField(
        default=True, help_text="Reply suggestions (and LLM drafts when configured) in this channel's conversations."
    )

    class Meta:
        verbose_name = "channel setting"

    def __str__(self) -> str:
        return f"Assist settings of channel {self.channel_id}"


class SuggestionFeedback(models.Model):
    """What an agent did with a suggestion, for the analytics."""

    class Action(models.TextChoices):
        ACCEPTED = "accepted", "Inserted and sent as suggested"
        EDITED = "edited", "Inserted, then edited"
        DISMISSED = "dismissed", "Dismissed"

    class Source(models.TextChoices):
        REPLY = "reply", "Past reply"
        CANNED = "canned", "Canned reply"
        ARTICLE = "article", "Knowledge article"

    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices)
    source_id = models.PositiveBigIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="suggestionfeedback_created")]

    def __str__(self) -> str:
        return f"{self.action} {self.source} {self.source_id}"
