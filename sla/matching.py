"""Which policy applies to a conversation: pure, over policies already loaded in order."""

from collections.abc import Iterable
from dataclasses import dataclass

from sla.models import Policy


@dataclass(frozen=True)
class ConversationFacts:
    """What policy conditions look at."""

    channel_id: int
    platform: str
    source: str
    priority: str
    customer_tag_ids: frozenset[int]


def _holds(policy: Policy, facts: ConversationFacts) -> bool:
    # An empty condition holds for every conversation.
    return (
        (policy.channel_id is None or policy.channel_id == facts.channel_id)
        and (not policy.platform or policy.platform == facts.platform)
        and (not policy.source or policy.source == facts.source)
        and (not policy.priority or policy.priority == facts.priority)
        and (policy.customer_tag_id is None or policy.customer_tag_id in facts.customer_tag_ids)
    )


def policy_match(*, policies: Iterable[Policy], facts: ConversationFacts) -> Policy | None:
    """Return the first active, non-default policy (in the order given) whose conditions all
    hold, else the active default policy, else None."""
    default = None
    for policy in policies:
        if not policy.is_active:
            continue
        if policy.is_default:
            default = policy
        elif _holds(policy, facts):
            return policy
    return default
