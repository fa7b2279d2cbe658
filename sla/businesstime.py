"""Business-time arithmetic: pure functions over aware datetimes and a business calendar (a
zoneinfo zone, a weekly schedule and holidays).

Business time is the part of the real timeline that falls inside the calendar's openings,
measured in elapsed seconds. An opening is written in local wall time, so on the night clocks
go forward a 01:00–05:00 shift lasts three hours and on the night they go back it lasts five,
as it does for the people working it. A wall time the zone skips stands for the instant of the
jump; a wall time it repeats stands for its first occurrence.

Instants are compared and subtracted in UTC: subtracting two datetimes that share a ZoneInfo
gives wall-clock, not elapsed, time.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

DAY_SECONDS = 24 * 3600
# Yearly holidays repeat with the four-year leap cycle; a calendar closed for longer than
# that (and a week) is taken never to open again, where adding time to it would never end.
_MAX_CLOSED_DAYS = 4 * 366 + 7

Opening = tuple[int, int]
"""One opening of a day: (start, end) in seconds after local midnight; end may be DAY_SECONDS."""


class ScheduleError(ValueError):
    """A day's openings cannot form a schedule: one ends before it starts, or two overlap."""


def _clock_text(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _opening_text(opening: Opening) -> str:
    return f"{_clock_text(opening[0])}–{_clock_text(opening[1])}"


def _checked(openings: Iterable[Opening]) -> tuple[Opening, ...]:
    """Return the openings sorted by start, or raise ScheduleError naming what is wrong."""
    ordered = tuple(sorted(openings))
    for start, end in ordered:
        if not 0 <= start < end <= DAY_SECONDS:
            raise ScheduleError(f"{_opening_text((start, end))} must end after it starts.")
    for earlier, later in pairwise(ordered):
        if later[0] < earlier[1]:
            raise ScheduleError(f"{_opening_text(earlier)} overlaps {_opening_text(later)}.")
    return ordered


def day_openings(intervals: Iterable[tuple[time, time]]) -> tuple[Opening, ...]:
    """Turn one day's (start, end) wall times into sorted openings; an end of 00:00 means
    midnight at the end of the day. Raise ScheduleError if one ends before it starts or two
    overlap (touching, as 13:00 and 13:00, is allowed)."""
    return _checked(
        (
            start.hour * 3600 + start.minute * 60 + start.second,
            (end.hour * 3600 + end.minute * 60 + end.second) or DAY_SECONDS,
        )
        for start, end in intervals
    )


@dataclass(frozen=True)
class Calendar:
    """When a team works: openings for each weekday (Monday first) in the zone's wall time,
    and holidays (whole local days), some of them recurring on the same date every year."""

    zone: ZoneInfo
    weekly: tuple[tuple[Opening, ...], ...]
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()  # (month, day)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("A weekly schedule has seven days.")
        object.__setattr__(self, "weekly", tuple(_checked(day) for day in self.weekly))
        if not any(self.weekly):
            raise ScheduleError("The calendar has no opening hours.")

    def openings_on(self, day: date) -> tuple[Opening, ...]:
        if day in self.holidays or (day.month, day.day) in self.yearly_holidays:
            return ()
        return self.weekly[day.weekday()]


# 24/7: business time is elapsed wall-clock time (the zone makes no difference).
WALL_CLOCK = Calendar(zone=ZoneInfo("UTC"), weekly=(((0, DAY_SECONDS),),) * 7)


def _jump_instant(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """Return the first whole second from which `zone` keeps the UTC offset it has at `after`,
    given that it had another offset at `before`."""
    target = after.astimezone(zone).utcoffset()
    low, high = int(before.timestamp()), int(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _local_instant(zone: ZoneInfo, day: date, second: int) -> datetime:
    """Return, in UTC, the instant the wall clock in `zone` shows `second` after midnight on
    `day`. A skipped wall time gives the instant of the jump, a repeated one its first
    occurrence, so that later wall times never give earlier instants."""
    wall = datetime.combine(day, time()) + timedelta(seconds=second)
    instant = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first occurrence
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In a gap fold=0 reads the wall time with the offset from before the jump, which lands
    # after it; fold=1 reads it with the offset from after, which lands before it.
    return _jump_instant(zone, wall.replace(tzinfo=zone, fold=1).astimezone(UTC), instant)


def _openings_from(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Yield the calendar's openings from `start` (UTC) on, in order, as UTC instants; an
    opening under way at `start` is cut to begin there."""
    day = start.astimezone(calendar.zone).date()
    closed_days = 0
    while True:
        openings = calendar.openings_on(day)
        closed_days = 0 if openings else closed_days + 1
        if closed_days > _MAX_CLOSED_DAYS:
            raise ScheduleError("The calendar never opens again.")
        for opening_second, closing_second in openings:
            closes = _local_instant(calendar.zone, day, closing_second)
            if closes > start:
                yield max(_local_instant(calendar.zone, day, opening_second), start), closes
        day += timedelta(days=1)


def business_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Return the business time from `start` to `end`; zero if `end` is not after `start`."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta()
    if end <= start:
        return total
    for opens, closes in _openings_from(calendar, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total


def business_add(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """Return, in UTC, the earliest instant by which `duration` of business time has passed
    since `start`. A duration that runs out exactly at closing time ends at closing time."""
    if duration < timedelta():
        raise ValueError("Business time cannot be added backwards.")
    start = start.astimezone(UTC)
    remaining = duration
    if not remaining:
        return start
    openings = _openings_from(calendar, start)
    while True:
        opens, closes = next(openings)
        if closes - opens >= remaining:
            return opens + remaining
        remaining -= closes - opens
