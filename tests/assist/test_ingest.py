"""Ingest classifies a customer's message before it routes the conversation."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from assist.services.classify import messages_classify
from inbox.models import Conversation
from inbox.services import message_ingest
from tests import factories


def test_a_language_rule_routes_the_first_message_to_its_team(channel):
    factories.team(channels=[channel])
    spanish = factories.team(channels=[channel])
    factories.rule(language="es", team=spanish)
    message = message_ingest(channel=channel, event=factories.inbound_event(text="Hola, ¿dónde está mi pedido?"))
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert (conversation.language, conversation.team) == ("es", spanish)


def test_a_negative_first_message_gets_the_priority_of_the_sentiment_rule(channel):
    factories.team(channels=[channel])
    factories.rule(sentiment="negative", set_priority=Conversation.Priority.HIGH)
    message = message_ingest(
        channel=channel, event=factories.inbound_event(text="Worst service ever, my order arrived broken 😡")
    )
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert (conversation.sentiment, conversation.priority) == ("negative", Conversation.Priority.HIGH)


def test_a_neutral_question_keeps_the_default_priority(channel):
    factories.team(channels=[channel])
    factories.rule(sentiment="negative", set_priority=Conversation.Priority.HIGH)
    message = message_ingest(channel=channel, event=factories.inbound_event(text="What time do you open tomorrow?"))
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert (conversation.sentiment, conversation.priority) == ("neutral", Conversation.Priority.MEDIUM)


def test_classifying_a_batch_costs_the_same_statements_for_2_or_20_messages(channel):
    def batch(count):
        conversations = [factories.conversation(channel=channel) for _ in range(count)]
        messages = [factories.message(conversation=c, content="Il pacco è arrivato rotto") for c in conversations]
        with CaptureQueriesContext(connection) as queries:
            messages_classify(messages=messages, conversations=conversations)
        return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]

    two, twenty = batch(2), batch(20)
    # already classified?, insights (locked), message insights, conversation insights, conversations
    assert len(two) == len(twenty) == 5
