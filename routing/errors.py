"""Routing's domain errors; helpdesk.errors turns them into HTTP answers."""

from helpdesk.errors import Conflict, DomainError, NotFound


class UnknownAgent(DomainError):
    code = "unknown_agent"


class UnknownTeam(DomainError):
    code = "unknown_team"


class AgentAtCapacity(DomainError):
    code = "agent_at_capacity"


class AssignmentForbidden(DomainError):
    status, code = 403, "forbidden"


class ConversationNotActive(Conflict):
    code = "conversation_not_active"


class NotAnAgent(NotFound):
    code = "not_an_agent"
