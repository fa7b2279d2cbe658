import pytest

from inbox.models import Conversation
from integrations.models import Platform
from routing.models import Assignment
from routing.rules import Decision, Facts, rule_matches, rules_decide
from routing.services import conversation_route
from tests import factories

pytestmark = pytest.mark.django_db


def facts(**overrides) -> Facts:
    fields = {"platform": Platform.FACEBOOK, "channel_id": 1, "source": "dm"}
    fields.update(overrides)
    return Facts(**fields)


def test_rule_without_conditions_matches_everything():
    assert rule_matches(factories.rule(), facts())


@pytest.mark.parametrize(
    ("condition", "matching", "other"),
    [
        ({"platform": Platform.X}, {"platform": Platform.X}, {"platform": Platform.FACEBOOK}),
        ({"source": "comment"}, {"source": "comment"}, {"source": "dm"}),
        ({"language": "en"}, {"language": "en-GB"}, {"language": "es"}),
        ({"language": "pt-BR"}, {"language": "pt_br"}, {"language": "pt"}),
        ({"sentiment": "negative"}, {"sentiment": "Negative"}, {"sentiment": "neutral"}),
        ({"priority": "high"}, {"priority": "high"}, {"priority": "low"}),
        (
            {"keywords": "refund\ncharged twice"},
            {"first_message": "I was CHARGED TWICE!"},
            {"first_message": "Refunding is not what I asked"},
        ),
    ],
)
def test_each_condition_matches_only_its_value(condition, matching, other):
    rule = factories.rule(**condition)
    assert rule_matches(rule, facts(**matching))
    assert not rule_matches(rule, facts(**other))


def test_channel_condition(channel):
    rule = factories.rule(channel=channel)
    assert rule_matches(rule, facts(channel_id=channel.pk))
    assert not rule_matches(rule, facts(channel_id=channel.pk + 1))


def test_customer_tag_condition_matches_any_of_the_tags():
    vip, press = factories.tag(name="vip"), factories.tag(name="press")
    rule = factories.rule(customer_tags=[vip, press])
    assert rule_matches(rule, facts(customer_tag_ids=frozenset({press.pk})))
    assert not rule_matches(rule, facts(customer_tag_ids=frozenset()))


def test_every_condition_must_hold():
    rule = factories.rule(platform=Platform.X, source="dm")
    assert not rule_matches(rule, facts(platform=Platform.X, source="mention"))


def test_first_matching_rule_wins_the_team_and_priority_while_tags_and_skills_add_up():
    first_team, second_team = factories.team(), factories.team()
    billing, spanish = factories.skill(), factories.skill()
    tag_a, tag_b = factories.tag(), factories.tag()
    rules = [
        factories.rule(position=1, set_priority="high", add_tags=[tag_a]),
        factories.rule(position=2, team=first_team, required_skill=billing, required_level=2),
        factories.rule(position=3, platform=Platform.X, team=second_team),  # does not match
        factories.rule(
            position=4,
            team=second_team,
            set_priority="low",
            add_tags=[tag_b],
            required_skill=spanish,
            required_level=3,
        ),
        factories.rule(position=5, required_skill=billing, required_level=4),
    ]

    decision = rules_decide(rules, facts())

    assert decision == Decision(
        team_id=first_team.pk,
        priority="high",
        tag_ids=frozenset({tag_a.pk, tag_b.pk}),
        skills={billing.pk: 4, spanish.pk: 3},
        rule_id=rules[1].pk,
    )


def test_rules_that_match_nothing_change_nothing():
    rules = [factories.rule(platform=Platform.X, team=factories.team(), set_priority="urgent")]
    assert rules_decide(rules, facts()) == Decision()


def test_routing_applies_the_rules_to_the_conversation(channel, now):
    factories.team(channels=[channel], members=[factories.agent()])
    vip_team = factories.team()
    vip_agent = factories.agent()
    vip_team.members.add(vip_agent)
    vip, escalated = factories.tag(name="vip"), factories.tag(name="escalated")
    rule = factories.rule(
        customer_tags=[vip], team=vip_team, set_priority="urgent", add_tags=[escalated]
    )
    customer = factories.customer()
    customer.tags.add(vip)
    conversation = factories.conversation(channel=channel, customer=customer)

    assignment = conversation_route(conversation_id=conversation.pk, now=now)

    conversation.refresh_from_db()
    assert (assignment.agent_id, assignment.by, assignment.rule_id) == (
        vip_agent.pk,
        Assignment.By.RULE,
        rule.pk,
    )
    assert conversation.team_id == vip_team.pk
    assert conversation.priority == Conversation.Priority.URGENT
    assert list(conversation.tags.all()) == [escalated]


def test_keywords_are_read_from_the_first_customer_message(channel, team, now):
    billing = factories.skill(name="billing")
    expert = factories.agent(skills={billing: 3})
    team.members.add(factories.agent(), expert)
    factories.rule(keywords="refund", required_skill=billing, required_level=2)
    conversation = factories.conversation(channel=channel)
    factories.message(conversation=conversation, content="Hello, I want a refund", now=now)
    factories.message(conversation=conversation, content="anyone?", now=now)

    assert conversation_route(conversation_id=conversation.pk, now=now).agent_id == expert.pk


def test_a_required_skill_nobody_online_has_queues_the_conversation(channel, team, now):
    team.members.add(factories.agent())
    factories.rule(required_skill=factories.skill(name="german"))
    conversation = factories.conversation(channel=channel)

    assert conversation_route(conversation_id=conversation.pk, now=now) is None
    conversation.refresh_from_db()
    assert (conversation.team_id, conversation.assignee_id) == (team.pk, None)


def test_inactive_rules_are_ignored(channel, team, now):
    team.members.add(factories.agent())
    factories.rule(is_active=False, set_priority="urgent")
    conversation = factories.conversation(channel=channel)

    conversation_route(conversation_id=conversation.pk, now=now)

    conversation.refresh_from_db()
    assert conversation.priority == Conversation.Priority.MEDIUM


def test_a_routed_conversation_keeps_its_first_decision_when_rules_change(channel, team, now):
    conversation = factories.conversation(channel=channel)
    conversation_route(conversation_id=conversation.pk, now=now)  # queued: nobody online
    factories.rule(required_skill=factories.skill())
    agent = factories.agent()
    team.members.add(agent)

    assert conversation_route(conversation_id=conversation.pk, now=now).agent_id == agent.pk
