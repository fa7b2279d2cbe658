"""Routing's state changes. Import from here; the submodules split them by sub-domain."""

from routing.services.manual import conversation_assign, conversation_transfer
from routing.services.presence import agent_heartbeat
from routing.services.queue import (
    agent_queues_drain_on_commit,
    queue_drain,
    queues_drain_on_commit,
    queues_sweep,
    team_hand_back_offline,
)
from routing.services.route import conversation_route, new_conversation_route
from routing.services.staffing import team_member_ensure

__all__ = [
    "agent_heartbeat",
    "agent_queues_drain_on_commit",
    "conversation_assign",
    "conversation_route",
    "conversation_transfer",
    "new_conversation_route",
    "queue_drain",
    "queues_drain_on_commit",
    "queues_sweep",
    "team_hand_back_offline",
    "team_member_ensure",
]
