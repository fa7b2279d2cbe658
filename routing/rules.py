"""Rule matching and the decision it leads to, without touching the database: the rules come
with their tags prefetched and the conversation as plain facts."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from routing.models import Rule


@dataclass(frozen=True)
class Facts:
    """What rules look at in a conversation."""

    platform: str
    channel_id: int
    source: str
    language: str = ""
    sentiment: str = ""
    priority: str = ""
    first_message: str = ""
    customer_tag_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Decision:
    team_id: int | None = None
    priority: str = ""
    tag_ids: frozenset[int] = frozenset()
    skills: dict[int, int] = field(default_factory=dict)  # skill id -> minimum level
    # The first matching rule that chose the team or required a skill: assignments credit it.
    rule_id: int | None = None


def _language_matches(wanted: str, actual: str) -> bool:
    """'en' matches 'en', 'en-GB' and 'en_us'; 'en-GB' matches only itself."""
    wanted, actual = wanted.lower(), actual.lower().replace("_", "-")
    return actual == wanted or actual.startswith(f"{wanted}-")


def _mentions_any(text: str, keywords: list[str]) -> bool:
    return any(
        re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text, re.IGNORECASE)
        for keyword in keywords
    )


def rule_matches(rule: Rule, facts: Facts) -> bool:
    """Whether every condition the rule sets holds; a rule without conditions matches all."""
    condition_tag_ids = {tag.pk for tag in rule.customer_tags.all()}
    keywords = rule.keyword_list
    return (
        (not rule.platform or rule.platform == facts.platform)
        and (not rule.channel_id or rule.channel_id == facts.channel_id)
        and (not rule.source or rule.source == facts.source)
        and (not rule.language or _language_matches(rule.language, facts.language))
        and (not rule.sentiment or rule.sentiment.lower() == facts.sentiment.lower())
        and (not rule.priority or rule.priority == facts.priority)
        and (not keywords or _mentions_any(facts.first_message, keywords))
        and (not condition_tag_ids or bool(condition_tag_ids & facts.customer_tag_ids))
    )


def rules_decide(rules: Iterable[Rule], facts: Facts) -> Decision:
    """Apply every matching rule in order. The first rule that sets a team or a priority wins
    it; tags and required skills add up (the higher level wins for a skill two rules require)."""
    team_id, priority, rule_id = None, "", None
    tag_ids: set[int] = set()
    skills: dict[int, int] = {}
    for rule in rules:
        if not rule_matches(rule, facts):
            continue
        team_id = team_id or rule.team_id
        priority = priority or rule.set_priority
        tag_ids.update(tag.pk for tag in rule.add_tags.all())
        if rule.required_skill_id:
            skills[rule.required_skill_id] = max(
                rule.required_level, skills.get(rule.required_skill_id, 0)
            )
        if rule_id is None and (rule.team_id or rule.required_skill_id):
            rule_id = rule.pk
    return Decision(
        team_id=team_id,
        priority=priority,
        tag_ids=frozenset(tag_ids),
        skills=skills,
        rule_id=rule_id,
    )
