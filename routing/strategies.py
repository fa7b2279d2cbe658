"""The three ways a team picks an agent, as pure functions over candidates.

Each strategy returns the candidates best first rather than one winner: when another worker
holds the best agent's row lock, the service tries the next one.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from routing.capacity import Capacity, Load

# Sorts "never assigned" before every real time, so a new agent gets the next turn.
NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    """An online member of the team, as the strategies see them."""

    agent_id: int
    capacity: Capacity
    load: Load = Load()
    skills: Mapping[int, int] = field(default_factory=dict)  # skill id -> level
    last_team_assignment_at: datetime | None = None
    last_assignment_at: datetime | None = None
    # The agent's summed level in the skills the conversation at hand requires.
    skill_level: int = 0

    def has_skills(self, required: Mapping[int, int]) -> bool:
        return all(self.skills.get(skill, 0) >= level for skill, level in required.items())

    def assigned(self, *, kind: str, at: datetime) -> "Candidate":
        """This candidate after taking one more conversation of `kind`."""
        return replace(
            self, load=self.load.plus_one(kind), last_team_assignment_at=at, last_assignment_at=at
        )


def eligible(
    candidates: Sequence[Candidate], *, kind: str, required: Mapping[int, int]
) -> list[Candidate]:
    """Keep those with room for a conversation of `kind` and every required skill at its level,
    each with its skill level for this conversation."""
    fit = [c for c in candidates if c.capacity.has_room(c.load, kind) and c.has_skills(required)]
    if not required:
        return fit  # every skill level is 0
    return [replace(c, skill_level=sum(c.skills[skill] for skill in required)) for c in fit]


def round_robin(candidates: Sequence[Candidate]) -> list[Candidate]:
    """A stable rotation per team: whoever's last assignment in the team is oldest goes next."""
    return sorted(candidates, key=lambda c: (c.last_team_assignment_at or NEVER, c.agent_id))


def skill_based(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Best level in the required skills first; ties go to the least loaded."""
    return sorted(candidates, key=lambda c: (-c.skill_level, c.load.total, c.agent_id))


def load_balanced(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Lowest open count relative to capacity first; ties go to the longest idle."""
    return sorted(
        candidates,
        key=lambda c: (
            c.load.total / c.capacity.total,
            c.last_assignment_at or NEVER,
            c.agent_id,
        ),
    )


Strategy = Callable[[Sequence[Candidate]], list[Candidate]]


class Recency(StrEnum):
    """Which last assignment a strategy ranks by, so the candidates query reads only that."""

    TEAM = "team"  # the last one in the team
    ANYWHERE = "anywhere"

# Keyed by Team.Strategy values.
STRATEGIES: dict[str, Strategy] = {
    "round-robin": round_robin,
    "skill-based": skill_based,
    "load-balanced": load_balanced,
}
RECENCY: dict[str, Recency | None] = {
    "round-robin": Recency.TEAM,
    "skill-based": None,
    "load-balanced": Recency.ANYWHERE,
}
