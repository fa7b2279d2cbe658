from assist.models import ConversationInsight, MessageInsight
from assist.services.classify import messages_classify
from inbox.models import Conversation, Message
from tests import factories


def _classify(conversation, *texts, sender_type=Message.SenderType.CUSTOMER):
    messages = [factories.message(conversation=conversation, content=text, sender_type=sender_type) for text in texts]
    messages_classify(messages=messages, conversations=[conversation])
    return messages


def test_sets_the_conversations_language_and_sentiment_on_row_and_instance(db):
    conversation = factories.conversation()
    _classify(conversation, "Il pacco è arrivato rotto, servizio pessimo")
    assert (conversation.language, conversation.sentiment) == ("it", "negative")
    conversation.refresh_from_db()
    assert (conversation.language, conversation.sentiment) == ("it", "negative")


def test_a_short_message_does_not_flip_the_conversations_language(db):
    conversation = factories.conversation()
    _classify(conversation, "Buongiorno, non riesco ad accedere al mio account da ieri sera")
    _classify(conversation, "thx!!")
    _classify(conversation, "ok")
    conversation.refresh_from_db()
    assert conversation.language == "it"


def test_the_conversations_sentiment_follows_its_recent_messages(db):
    conversation = factories.conversation()
    _classify(conversation, "Sono furioso, il pacco è arrivato rotto 😡 pessimo")
    assert conversation.sentiment == "negative"
    _classify(conversation, "Grazie mille, risolto! Gentilissimi 😊", "Perfetto, grazie ancora!")
    insight = ConversationInsight.objects.get(conversation=conversation)
    assert conversation.sentiment == "positive"
    assert insight.sentiment_trend > 0


def test_each_message_is_classified_once(db):
    conversation = factories.conversation()
    messages = _classify(conversation, "Where is my order?")
    messages_classify(messages=messages, conversations=[conversation])
    assert MessageInsight.objects.count() == 1
    assert ConversationInsight.objects.get(conversation=conversation).messages_classified == 1


def test_agent_messages_and_empty_texts_are_not_classified(db):
    conversation = factories.conversation()
    _classify(conversation, "Ciao, come posso aiutarti?", sender_type=Message.SenderType.AGENT)
    _classify(conversation, "   ")
    assert not MessageInsight.objects.exists()
    assert Conversation.objects.get(pk=conversation.pk).language == ""


def test_a_short_first_message_in_a_clear_conversation_language_uses_its_lexicon(db):
    conversation = factories.conversation(language="it")
    message = _classify(conversation, "ok grazie")[0]
    assert MessageInsight.objects.get(message=message).sentiment == "positive"
