from datetime import UTC, datetime, timedelta

from routing.capacity import DM, PUBLIC, Capacity, Load, capacity_kind
from routing.models import Team
from routing.strategies import (
    STRATEGIES,
    Candidate,
    eligible,
    load_balanced,
    round_robin,
    skill_based,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BILLING, SPANISH = 1, 2


def candidate(agent_id: int, **fields) -> Candidate:
    fields.setdefault("capacity", Capacity(total=5))
    return Candidate(agent_id=agent_id, **fields)


def ids(candidates) -> list[int]:
    return [c.agent_id for c in candidates]


def test_round_robin_gives_the_next_turn_to_whoever_waited_longest_in_the_team():
    candidates = [
        candidate(1, last_team_assignment_at=T0 + timedelta(minutes=2)),
        candidate(2, last_team_assignment_at=T0),
        candidate(3, last_team_assignment_at=T0 + timedelta(minutes=1)),
    ]
    assert ids(round_robin(candidates)) == [2, 3, 1]


def test_round_robin_puts_never_assigned_agents_first_in_id_order():
    candidates = [candidate(3), candidate(1, last_team_assignment_at=T0), candidate(2)]
    assert ids(round_robin(candidates)) == [2, 3, 1]


def test_round_robin_rotates_through_every_agent():
    candidates = [candidate(1), candidate(2), candidate(3)]
    order = []
    for minute in range(6):
        chosen = round_robin(candidates)[0]
        order.append(chosen.agent_id)
        at = T0 + timedelta(minutes=minute)
        candidates = [c.assigned(kind=DM, at=at) if c is chosen else c for c in candidates]
    assert order == [1, 2, 3, 1, 2, 3]


def test_round_robin_ignores_assignments_in_other_teams():
    busy_elsewhere = candidate(
        1, last_team_assignment_at=T0, last_assignment_at=T0 + timedelta(hours=1)
    )
    assert ids(
        round_robin(
            [busy_elsewhere, candidate(2, last_team_assignment_at=T0 + timedelta(minutes=1))]
        )
    ) == [1, 2]


def test_skill_based_prefers_the_best_level_then_the_least_load():
    candidates = [
        candidate(1, skill_level=3, load=Load(dm=1)),
        candidate(2, skill_level=5, load=Load(dm=4)),
        candidate(3, skill_level=3, load=Load(dm=0)),
    ]
    assert ids(skill_based(candidates)) == [2, 3, 1]


def test_load_balanced_prefers_the_lowest_load_relative_to_capacity():
    candidates = [
        candidate(1, load=Load(dm=2), capacity=Capacity(total=4)),  # 50 %
        candidate(2, load=Load(dm=3), capacity=Capacity(total=10)),  # 30 %
        candidate(3, load=Load(public=1), capacity=Capacity(total=2)),  # 50 %
    ]
    assert ids(load_balanced(candidates))[0] == 2


def test_load_balanced_breaks_ties_by_longest_idle():
    candidates = [
        candidate(1, load=Load(dm=1), last_assignment_at=T0 + timedelta(minutes=5)),
        candidate(2, load=Load(dm=1), last_assignment_at=T0),
        candidate(3, load=Load(dm=1)),
    ]
    assert ids(load_balanced(candidates)) == [3, 2, 1]


def test_eligible_drops_full_agents():
    full = candidate(1, load=Load(dm=3, public=2))
    assert ids(eligible([full, candidate(2)], kind=DM, required={})) == [2]


def test_eligible_applies_the_limit_of_the_conversations_kind():
    dm_full = candidate(1, capacity=Capacity(total=5, dm=2), load=Load(dm=2))
    assert ids(eligible([dm_full], kind=DM, required={})) == []
    assert ids(eligible([dm_full], kind=PUBLIC, required={})) == [1]


def test_eligible_requires_every_skill_at_its_level_and_sums_the_levels():
    candidates = [
        candidate(1, skills={BILLING: 4, SPANISH: 2}),
        candidate(2, skills={BILLING: 1, SPANISH: 5}),
        candidate(3, skills={BILLING: 5}),
    ]
    chosen = eligible(candidates, kind=DM, required={BILLING: 2, SPANISH: 1})
    assert [(c.agent_id, c.skill_level) for c in chosen] == [(1, 6)]


def test_zero_capacity_never_has_room():
    assert not Capacity(total=0).has_room(Load(), DM)


def test_capacity_holds_a_load_at_its_limits_but_has_no_room_beyond():
    capacity = Capacity(total=3, public=1)
    assert capacity.holds(Load(dm=2, public=1))
    assert not capacity.has_room(Load(dm=1, public=1), PUBLIC)
    assert capacity.has_room(Load(dm=1, public=1), DM)


def test_comments_mentions_and_reviews_share_the_public_limit():
    assert [capacity_kind(source) for source in ("dm", "comment", "mention", "review")] == [
        DM,
        PUBLIC,
        PUBLIC,
        PUBLIC,
    ]


def test_every_team_strategy_has_a_function():
    assert set(STRATEGIES) == set(Team.Strategy.values)
