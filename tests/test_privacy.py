"""Retention and a customer's rights: raw deliveries and old message text are purged by age,
one customer's data is exported as JSON or erased everywhere it is kept."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inbox.models import Attachment, Conversation, Customer, Message
from inbox.services.privacy import PURGED_TEXT
from integrations.models import Platform, WebhookEvent
from tests import factories

pytestmark = pytest.mark.django_db


def event(*, days_ago: int, status=WebhookEvent.Status.PROCESSED, body: str = "{}", platform=Platform.TELEGRAM):
    received = timezone.now() - timedelta(days=days_ago)
    return WebhookEvent.objects.create(
        platform=platform, body=body, headers={}, received_at=received, enqueued_at=received, status=status
    )


def command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_purge_removes_old_finished_deliveries_and_keeps_pending_and_recent_ones():
    old_done, old_failed = event(days_ago=40), event(days_ago=40, status=WebhookEvent.Status.FAILED)
    old_pending, recent = event(days_ago=40, status=WebhookEvent.Status.PENDING), event(days_ago=2)

    output = command("purge_data", "--webhook-event-days", "30", "--message-body-days", "0")

    assert "Purged 2 webhook event(s)" in output
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert not WebhookEvent.objects.filter(pk__in=[old_done.pk, old_failed.pk]).exists()


def test_purge_blanks_old_text_of_inactive_conversations_only():
    long_ago = timezone.now() - timedelta(days=100)
    resolved = factories.conversation(status=Conversation.Status.RESOLVED)
    still_open = factories.conversation()
    old = factories.message(conversation=resolved, created_at=long_ago, content="My address is 1 Main St")
    factories.attachment(message=old)
    recent = factories.message(conversation=resolved, content="Thanks!")
    old_open = factories.message(conversation=still_open, created_at=long_ago, content="Still waiting")

    command("purge_data", "--webhook-event-days", "0", "--message-body-days", "90")

    assert Message.objects.get(pk=old.pk).content == PURGED_TEXT
    assert not Attachment.objects.filter(message=old).exists()
    assert Message.objects.get(pk=recent.pk).content == "Thanks!"
    assert Message.objects.get(pk=old_open.pk).content == "Still waiting"


def test_purge_refuses_when_everything_is_kept_for_ever_and_negative_days():
    with pytest.raises(CommandError, match="nothing to purge"):
        command("purge_data", "--webhook-event-days", "0", "--message-body-days", "0")
    with pytest.raises(CommandError):
        command("purge_data", "--webhook-event-days", "-1")


@pytest.fixture
def customer_with_history():
    customer = factories.customer(display_name="Giulia Rossi")
    factories.identity(customer=customer, platform=Platform.TELEGRAM, external_id="424242")
    conversation = factories.conversation(customer=customer)
    factories.message(conversation=conversation, content="Il mio ordine #123?")
    factories.note(conversation=conversation, body="VIP customer")
    return customer


def test_export_gives_the_customer_their_identities_conversations_messages_and_notes(customer_with_history):
    exported = json.loads(command("customer_data", "export", str(customer_with_history.pk)))
    assert exported["customer"]["display_name"] == "Giulia Rossi"
    assert exported["identities"][0]["external_id"] == "424242"
    (conversation,) = exported["conversations"]
    assert [message["text"] for message in conversation["messages"]] == ["Il mio ordine #123?"]
    assert [note["body"] for note in conversation["notes"]] == ["VIP customer"]


def test_erase_removes_the_customer_everywhere_and_nobody_else(customer_with_history):
    someone_else = factories.conversation()
    naming_them = event(days_ago=1, body='{"message": {"from": {"id": 424242}, "text": "hi"}}')
    longer_number = event(days_ago=1, body='{"message": {"from": {"id": 14242420}, "date": 1764242421}}')

    with pytest.raises(CommandError, match="--yes"):
        command("customer_data", "erase", str(customer_with_history.pk))
    output = command("customer_data", "erase", str(customer_with_history.pk), "--yes")

    assert "1 raw webhook event(s)" in output
    assert not Customer.objects.filter(pk=customer_with_history.pk).exists()
    assert not Conversation.objects.filter(customer_id=customer_with_history.pk).exists()
    assert Conversation.objects.filter(pk=someone_else.pk).exists()
    assert not WebhookEvent.objects.filter(pk=naming_them.pk).exists()
    assert WebhookEvent.objects.filter(pk=longer_number.pk).exists()


def test_an_unknown_customer_is_a_clear_error():
    with pytest.raises(CommandError, match="No customer with id 999"):
        command("customer_data", "export", "999")
