"""What the inbox keeps of people, and for how long: message bodies past their retention, and
one customer's data erased on request."""

from datetime import datetime

from django.db import transaction

from inbox.models import Attachment, Conversation, Customer, Message

PURGED_TEXT = "[removed after the retention period]"
PURGE_BATCH = 2000


def message_bodies_purge(*, older_than: datetime) -> int:
    """Blank the text and attachments of messages written before `older_than` in conversations
    that are no longer active; return how many messages were blanked. Works in batches, each
    its own transaction, so a large purge never holds long locks."""
    purged = 0
    while True:
        with transaction.atomic():
            ids = list(
                Message.objects.filter(created_at__lt=older_than)
                .exclude(conversation__status__in=Conversation.ACTIVE_STATUSES)
                .exclude(content=PURGED_TEXT)
                .values_list("pk", flat=True)[:PURGE_BATCH]
            )
            if not ids:
                return purged
            Attachment.objects.filter(message_id__in=ids).delete()
            purged += Message.objects.filter(pk__in=ids).update(content=PURGED_TEXT)


@transaction.atomic
def customer_erase(*, customer_id: int) -> list[tuple[str, str]]:
    """Delete the customer, their identities and every conversation of theirs with its messages
    and notes; return the (platform, external id) pairs they were known by, so that the raw
    deliveries naming them can be erased too."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    identities = list(customer.identities.values_list("platform", "external_id"))
    Conversation.objects.filter(customer=customer).delete()
    customer.delete()
    return identities
