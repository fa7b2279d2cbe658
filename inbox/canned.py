"""Canned replies: placeholders filled in for one conversation and the agent answering it."""

import re

from django.contrib.auth.models import AbstractBaseUser

from inbox.models import CannedReply, Conversation

# `{{ customer.name }}`, spaces optional. Unknown placeholders stay as written, so the agent
# sees what the reply still needs before sending it.
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")


def canned_reply_fill(*, body: str, conversation: Conversation, agent: AbstractBaseUser) -> str:
    name = conversation.customer.display_name
    values = {
        "customer.name": name,
        "customer.first_name": name.split()[0] if name.split() else name,
        "agent.name": agent.get_full_name() or agent.get_username(),
        "channel.name": conversation.channel.name,
    }
    return PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), body)


def canned_replies_for(
    *, conversation: Conversation, agent: AbstractBaseUser
) -> list[tuple[str, str]]:
    """Every canned reply as (title, text filled in for this conversation)."""
    return [
        (reply.title, canned_reply_fill(body=reply.body, conversation=conversation, agent=agent))
        for reply in CannedReply.objects.all()
    ]
