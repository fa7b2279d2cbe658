"""Holidays read from an iCalendar (.ics) file, such as a public-holiday feed: pure parsing.

Each event closes every local day it touches. An event that repeats every year
(RRULE:FREQ=YEARLY, without an end) becomes a yearly holiday; an event with any other
repetition is left out and reported, since a calendar holiday is a date, not a rule.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar


class IcsError(ValueError):
    """The file cannot be read as an iCalendar file."""


@dataclass(frozen=True)
class ImportedHoliday:
    date: date
    name: str
    recurs_yearly: bool


@dataclass(frozen=True)
class IcsHolidays:
    holidays: list[ImportedHoliday]
    skipped: list[str]  # names of the events left out


def _local_date(value: date | datetime, zone: ZoneInfo) -> date:
    if isinstance(value, datetime):
        # A floating time (no zone) is the calendar's local time already.
        return (value.astimezone(zone) if value.tzinfo else value).date()
    return value


def _days(event: icalendar.Event, zone: ZoneInfo) -> list[date]:
    first = _local_date(event.start, zone)
    # The end is exclusive: step back by the smallest unit of its type to reach the last day.
    end = event.end
    last = _local_date(
        end - (timedelta(microseconds=1) if isinstance(end, datetime) else timedelta(days=1)), zone
    )
    return [first + timedelta(days=offset) for offset in range(max((last - first).days, 0) + 1)]


def holidays_from_ics(data: bytes, *, zone: ZoneInfo) -> IcsHolidays:
    """Read the holidays of an iCalendar file for a calendar in `zone`."""
    try:
        events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    except ValueError as exc:
        raise IcsError(f"This is not an iCalendar file: {exc}") from None
    holidays, skipped = [], []
    for event in events:
        name = str(event.get("SUMMARY", ""))[:200]
        rule = event.get("RRULE")
        yearly = (
            rule is not None
            and rule.get("FREQ") == ["YEARLY"]
            and not {"COUNT", "UNTIL"} & set(rule)
        )
        if "DTSTART" not in event or (rule is not None and not yearly):
            skipped.append(name or "(untitled event)")
            continue
        holidays.extend(
            ImportedHoliday(date=day, name=name, recurs_yearly=yearly) for day in _days(event, zone)
        )
    return IcsHolidays(holidays=holidays, skipped=skipped)
