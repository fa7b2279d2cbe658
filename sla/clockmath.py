"""Pure rules for one clock: business time used, where its deadline and warning fall, when
the scan must look at it next, and its status at an instant."""

from datetime import datetime, timedelta
from enum import StrEnum

from sla.businesstime import Calendar, business_add, business_between


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


def warning_point(
    *, budget: timedelta, minutes: int | None, percent: int | None
) -> timedelta | None:
    """Return how much business time a clock may use before it warns; None: it never warns.
    A threshold longer than the budget warns at once."""
    if minutes is not None:
        return max(budget - timedelta(minutes=minutes), timedelta())
    if percent is not None:
        return budget * percent / 100
    return None


def used(
    *, calendar: Calendar, consumed: timedelta, resumed_at: datetime | None, at: datetime
) -> timedelta:
    """Return the business time used by `at`: what was banked, plus the running stretch."""
    if resumed_at is None:
        return consumed
    return consumed + business_between(calendar, resumed_at, at)


def reached_at(
    *,
    calendar: Calendar,
    consumed: timedelta,
    point: timedelta,
    since: datetime,
    running: bool,
    previous: datetime | None,
) -> datetime | None:
    """Return when a clock that had used `consumed` at `since` (when it resumed or paused)
    reaches `point` of used business time.

    If it already had, that is `previous` when known and not later than `since`, else `since`.
    If not, a running clock reaches it later in business time; a paused one has no such
    instant until it resumes (None).
    """
    if consumed >= point:
        return previous if previous is not None and previous <= since else since
    if not running:
        return None
    return business_add(calendar, since, point - consumed)


def next_check(
    *, warn_at: datetime | None, deadline: datetime | None, warned: bool, breached: bool
) -> datetime | None:
    """Return the instant the scan must next look at an active clock: its warning until that
    is recorded, then its deadline until the breach is; None once both are."""
    if not warned and warn_at is not None:
        return warn_at
    if not breached:
        return deadline
    return None


def status(
    *,
    stopped_outcome: str | None,
    paused: bool,
    used_time: timedelta,
    budget: timedelta,
    warn_point: timedelta | None,
    breached: bool,
) -> Status:
    """Return how a clock stands. A breach outranks a pause (the budget stays overspent) and
    a pause outranks a warning (the clock is not running down)."""
    if stopped_outcome is not None:
        return Status.BREACHED if stopped_outcome == Status.BREACHED else Status.MET
    if breached or used_time >= budget:
        return Status.BREACHED
    if paused:
        return Status.PAUSED
    if warn_point is not None and used_time >= warn_point:
        return Status.WARNING
    return Status.OK
