"""Routing's snapshot of rules and teams: a change applies to the next route at once in the
process that made it, in every other process once it commits, and after a short while even
when made without signals."""

import pytest
from django.core.cache import cache

from inbox.models import Tag
from routing.config import VERSION_KEY, config_snapshot
from routing.models import Rule, Team
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_snapshot_is_reused_until_something_changes(channel, team, django_assert_num_queries):
    config_snapshot()
    with django_assert_num_queries(0):
        assert config_snapshot().team_for(team_id=None, channel_id=channel.pk) == team


def test_a_saved_rule_applies_at_once_here(channel, team):
    config_snapshot()
    rule = factories.rule(set_priority="high")
    assert config_snapshot().rules == [rule]
    Rule.objects.filter(pk=rule.pk).delete()  # a queryset delete still sends the signals
    assert config_snapshot().rules == []


def test_a_deleted_tag_leaves_the_rules_at_once(team):
    tag = factories.tag()
    factories.rule(add_tags=[tag])
    assert [list(r.add_tags.all()) for r in config_snapshot().rules] == [[tag]]
    Tag.objects.filter(pk=tag.pk).delete()
    assert [list(r.add_tags.all()) for r in config_snapshot().rules] == [[]]


def test_a_team_taking_a_channel_gets_its_conversations(channel):
    assert config_snapshot().team_for(team_id=None, channel_id=channel.pk) is None
    team = factories.team()
    team.channels.add(channel)
    assert config_snapshot().team_for(team_id=None, channel_id=channel.pk) == team


def test_other_processes_learn_of_a_change_once_it_commits(
    team, django_capture_on_commit_callbacks
):
    version = cache.get(VERSION_KEY) or config_snapshot().version
    with django_capture_on_commit_callbacks(execute=True):
        Team.objects.get(pk=team.pk).save()
    assert cache.get(VERSION_KEY) != version


def test_a_change_from_another_process_is_seen_by_its_version(team):
    config_snapshot()
    Team.objects.filter(pk=team.pk).update(strategy=Team.Strategy.LOAD_BALANCED)  # no signal
    assert config_snapshot().teams[team.pk].strategy == Team.Strategy.ROUND_ROBIN
    cache.set(VERSION_KEY, "set by another process")
    assert config_snapshot().teams[team.pk].strategy == Team.Strategy.LOAD_BALANCED


def test_a_change_no_signal_announced_is_seen_after_the_maximum_age(team, settings):
    config_snapshot()
    Team.objects.filter(pk=team.pk).update(strategy=Team.Strategy.SKILL_BASED)  # no signal
    assert config_snapshot().teams[team.pk].strategy == Team.Strategy.ROUND_ROBIN
    settings.ROUTING_CONFIG_MAX_AGE = 0
    assert config_snapshot().teams[team.pk].strategy == Team.Strategy.SKILL_BASED
