from inbox.models import Conversation
from integrations.models import Platform
from sla.matching import ConversationFacts, policy_match
from sla.models import Policy

FACTS = ConversationFacts(
    channel_id=7,
    platform=Platform.INSTAGRAM,
    source=Conversation.Source.COMMENT,
    priority=Conversation.Priority.HIGH,
    customer_tag_ids=frozenset({3}),
)


def policy(name: str, **fields) -> Policy:
    return Policy(name=name, **fields)


def test_the_first_matching_policy_wins():
    policies = [
        policy("facebook", platform=Platform.FACEBOOK),
        policy(
            "instagram comments", platform=Platform.INSTAGRAM, source=Conversation.Source.COMMENT
        ),
        policy("instagram", platform=Platform.INSTAGRAM),
    ]
    assert policy_match(policies=policies, facts=FACTS).name == "instagram comments"


def test_every_condition_must_hold():
    policies = [
        policy("vip on another channel", channel_id=8, customer_tag_id=3),
        policy("urgent vip", priority=Conversation.Priority.URGENT, customer_tag_id=3),
        policy("vip high", priority=Conversation.Priority.HIGH, customer_tag_id=3, channel_id=7),
    ]
    assert policy_match(policies=policies, facts=FACTS).name == "vip high"


def test_the_default_applies_when_nothing_else_matches_wherever_it_is_listed():
    policies = [policy("default", is_default=True), policy("x", platform=Platform.X)]
    assert policy_match(policies=policies, facts=FACTS).name == "default"


def test_a_matching_policy_beats_the_default_listed_before_it():
    policies = [policy("default", is_default=True), policy("tagged", customer_tag_id=3)]
    assert policy_match(policies=policies, facts=FACTS).name == "tagged"


def test_inactive_policies_are_ignored_and_nothing_may_match():
    policies = [
        policy("off", is_active=False),
        policy("default off", is_default=True, is_active=False),
    ]
    assert policy_match(policies=policies, facts=FACTS) is None
