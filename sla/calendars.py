"""Business calendars as stored, turned into the pure calendars `sla.businesstime` computes on.

Reads the calendar's intervals and holidays through `.all()`, so a caller that prefetched them
(`policy__calendar__intervals`, `policy__calendar__holidays`) runs no query here.
"""

from collections import defaultdict
from datetime import time
from zoneinfo import ZoneInfo

from sla.businesstime import WALL_CLOCK, Calendar, day_openings
from sla.models import BusinessCalendar, Policy


def calendar_from_model(calendar: BusinessCalendar) -> Calendar:
    if calendar.always_open:
        return WALL_CLOCK
    by_weekday: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for interval in calendar.intervals.all():
        by_weekday[interval.weekday].append((interval.start, interval.end))
    holidays = list(calendar.holidays.all())
    return Calendar(
        zone=ZoneInfo(calendar.time_zone),
        weekly=tuple(day_openings(by_weekday[weekday]) for weekday in range(7)),
        holidays=frozenset(holiday.date for holiday in holidays if not holiday.recurs_yearly),
        yearly_holidays=frozenset(
            (holiday.date.month, holiday.date.day) for holiday in holidays if holiday.recurs_yearly
        ),
    )


def policy_calendar(policy: Policy) -> Calendar:
    """Return the calendar the policy's clocks count business time on."""
    if not policy.business_hours:
        return WALL_CLOCK
    return calendar_from_model(policy.calendar)
