"""Who works where: make a user an agent and a member of a team that serves channels."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from integrations.models import Channel
from routing.models import Agent, Team
from routing.services.queue import queues_drain_on_commit


@transaction.atomic
def team_member_ensure(
    *, user: AbstractBaseUser, team_name: str, channels: Iterable[Channel], capacity: int
) -> tuple[Agent, Team]:
    """Make `user` an agent in the team `team_name` serving `channels`, creating what is
    missing and leaving what exists as it is (an existing agent keeps their capacity), so it
    can run at every deployment."""
    agent, _ = Agent.objects.get_or_create(user=user, defaults={"capacity": capacity})
    team, _ = Team.objects.get_or_create(name=team_name)
    team.channels.add(*channels)
    team.members.add(agent)
    # Conversations already waiting for this team can now be handed out.
    queues_drain_on_commit(team_ids=[team.pk])
    return agent, team
