"""Agents' presence, as their consoles report it."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from helpdesk.errors import DomainError
from routing.errors import NotAnAgent
from routing.models import Agent
from routing.presence import Presence
from routing.services.queue import agent_queues_drain_on_commit

HEARTBEAT_STATUSES = (Presence.ONLINE, Presence.AWAY)


@transaction.atomic
def agent_heartbeat(*, agent_id: int, status: str, now: datetime | None = None) -> Agent:
    """Record that the agent's console is alive and whether they take conversations ("online")
    or not ("away"). An agent coming online gets their teams' queued conversations at once;
    one whose heartbeats stop is offline after ROUTING_PRESENCE_TIMEOUT."""
    now = now or timezone.now()
    if status not in HEARTBEAT_STATUSES:
        raise DomainError(f"Presence must be one of {', '.join(HEARTBEAT_STATUSES)}.")
    agent = Agent.objects.select_for_update().filter(pk=agent_id).first()
    if agent is None:
        raise NotAnAgent("You have no agent profile.")
    came_online = status == Presence.ONLINE and agent.presence_at(now) != Presence.ONLINE
    agent.presence, agent.last_heartbeat_at = status, now
    agent.save(update_fields=["presence", "last_heartbeat_at"])
    if came_online:
        agent_queues_drain_on_commit(agent_id=agent.pk)
    return agent
