"""One customer's data, as they may ask for it (GDPR article 15)."""

from typing import Any

from inbox.models import Conversation, Customer


def customer_data_export(*, customer_id: int) -> dict[str, Any]:
    """Everything the inbox holds about the customer, as JSON-ready data."""
    customer = Customer.objects.prefetch_related("identities").get(pk=customer_id)
    conversations = (
        Conversation.objects.filter(customer=customer)
        .select_related("channel")
        .prefetch_related("messages__attachments", "notes")
        .order_by("created_at")
    )
    return {
        "customer": {"id": customer.pk, "display_name": customer.display_name, "language": customer.language,
                     "created_at": customer.created_at.isoformat()},
        "identities": [
            {"platform": identity.platform, "external_id": identity.external_id, "handle": identity.handle,
             "display_name": identity.display_name, "avatar_url": identity.avatar_url}
            for identity in customer.identities.all()
        ],
        "conversations": [
            {
                "id": conversation.pk,
                "channel": conversation.channel.name,
                "platform": conversation.channel.platform,
                "source": conversation.source,
                "status": conversation.status,
                "created_at": conversation.created_at.isoformat(),
                "messages": [
                    {"direction": message.direction, "sender_type": message.sender_type, "text": message.content,
                     "created_at": message.created_at.isoformat(),
                     "attachments": [attachment.url for attachment in message.attachments.all()]}
                    for message in sorted(conversation.messages.all(), key=lambda message: (message.created_at, message.pk))
                ],
                "notes": [{"body": note.body, "created_at": note.created_at.isoformat()} for note in conversation.notes.all()],
            }
            for conversation in conversations
        ],
    }
