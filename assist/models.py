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
