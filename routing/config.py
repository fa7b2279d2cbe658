"""What routing reads for every conversation but managers change rarely: the active rules, each
team's strategy and which team gets a channel's conversations.

Each process keeps one snapshot of it. A change to any of it (connected in apps.py) drops the
snapshot in the process that made it at once, and after commit writes a new version to the
shared cache, which every process compares with its snapshot's before each use. Reading the
version before the database means a snapshot is never labelled newer than what it holds. The
snapshot also expires after ROUTING_CONFIG_MAX_AGE, for changes that send no signals (a
queryset update in a shell) or a cache that is not shared (the embedded setup's, per process).
"""

import time
from dataclasses import dataclass
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache

from helpdesk.transactions import on_commit_call
from routing.models import Rule, Team

VERSION_KEY = "routing:config-version"


@dataclass(frozen=True)
class ConfigSnapshot:
    version: str
    loaded_at: float  # time.monotonic()
    rules: list[Rule]  # active, in order, with their tags prefetched
    teams: dict[int, Team]
    # channel id -> the team that gets its conversations when no rule chooses: the oldest
    # of those serving it.
    channel_teams: dict[int, int]

    @property
    def uses_keywords(self) -> bool:
        return any(rule.keywords for rule in self.rules)

    @property
    def uses_customer_tags(self) -> bool:
        return any(rule.customer_tags.all() for rule in self.rules)

    def team_for(self, *, team_id: int | None, channel_id: int) -> Team | None:
        """The conversation's team; without one, the channel's default team."""
        return self.teams.get(team_id if team_id is not None else self.channel_teams.get(channel_id))


_snapshot: ConfigSnapshot | None = None


def _current_version() -> str:
    return cache.get_or_set(VERSION_KEY, uuid4().hex, timeout=None)


def _load(version: str) -> ConfigSnapshot:
    teams = {team.pk: team for team in Team.objects.all()}
    channel_teams: dict[int, int] = {}
    for channel_id, team_id in Team.channels.through.objects.order_by("team_id").values_list(
        "channel_id", "team_id"
    ):
        channel_teams.setdefault(channel_id, team_id)
    return ConfigSnapshot(
        version=version,
        loaded_at=time.monotonic(),
        rules=list(
            Rule.objects.filter(is_active=True).prefetch_related("customer_tags", "add_tags")
        ),
        teams=teams,
        channel_teams=channel_teams,
    )


def config_snapshot() -> ConfigSnapshot:
    """The current snapshot, loaded again when another process changed it or it is too old."""
    global _snapshot
    version = _current_version()
    snapshot = _snapshot
    if (
        snapshot is None
        or snapshot.version != version
        or time.monotonic() - snapshot.loaded_at > settings.ROUTING_CONFIG_MAX_AGE
    ):
        snapshot = _snapshot = _load(version)
    return snapshot


def config_changed(**kwargs) -> None:
    """Connected to saves and deletes of rules, teams, tags, skills and channels and to
    changes of their links: forget the snapshot here now, everywhere once this commits."""
    global _snapshot
    _snapshot = None
    on_commit_call(cache.set, VERSION_KEY, uuid4().hex, timeout=None)
