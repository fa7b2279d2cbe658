from datetime import timedelta

from django.utils import timezone

from assist.models import ReplyExample
from assist.services import conversation_learn, conversations_learn_missed
from inbox.models import Conversation, Message
from inbox.services import conversation_status_set
from tests import factories


def _answered(*, language="it", customer="Quando arriva il mio rimborso?", reply="Entro 5 giorni lavorativi."):
    conversation = factories.conversation(language=language)
    now = timezone.now()
    factories.message(conversation=conversation, content=customer, now=now - timedelta(minutes=5))
    factories.message(
        conversation=conversation, content=reply, direction=Message.Direction.OUTBOUND,
        sender_type=Message.SenderType.AGENT, now=now - timedelta(minutes=1),
    )
    return conversation


def test_resolving_a_conversation_keeps_its_answer(db, django_capture_on_commit_callbacks):
    conversation = _answered()
    with django_capture_on_commit_callbacks(execute=True):
        conversation_status_set(conversation_id=conversation.pk, status=Conversation.Status.RESOLVED)
    example = ReplyExample.objects.get(conversation=conversation)
    assert (example.customer_text, example.reply_text, example.language) == (
        "Quando arriva il mio rimborso?", "Entro 5 giorni lavorativi.", "it",
    )


def test_an_open_or_unanswered_conversation_teaches_nothing(db):
    open_one = _answered()
    unanswered = factories.conversation(status=Conversation.Status.RESOLVED)
    factories.message(conversation=unanswered, content="Hello?")
    assert conversation_learn(conversation_id=open_one.pk) is None
    assert conversation_learn(conversation_id=unanswered.pk) is None
    assert not ReplyExample.objects.exists()


def test_resolving_again_replaces_the_answer(db):
    conversation = _answered()
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED)
    first = conversation_learn(conversation_id=conversation.pk)
    factories.message(
        conversation=conversation, content="Rimborso inviato oggi.", direction=Message.Direction.OUTBOUND,
        sender_type=Message.SenderType.AGENT,
    )
    second = conversation_learn(conversation_id=conversation.pk)
    assert second.pk > first.pk
    assert list(ReplyExample.objects.values_list("reply_text", flat=True)) == ["Rimborso inviato oggi."]


def test_the_sweep_learns_from_conversations_whose_task_was_lost(db):
    conversation = _answered()
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.RESOLVED, resolved_at=timezone.now()
    )
    assert conversations_learn_missed() == 1
    assert ReplyExample.objects.filter(conversation=conversation).exists()
