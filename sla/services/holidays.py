"""Holidays added to business calendars in bulk."""

from collections.abc import Iterable

from django.db import transaction

from sla.ics import ImportedHoliday
from sla.models import BusinessCalendar, Holiday


@transaction.atomic
def calendar_holidays_import(
    *, calendar: BusinessCalendar, holidays: Iterable[ImportedHoliday]
) -> int:
    """Add the holidays to the calendar, updating the name and recurrence of dates it already
    has; return how many dates were written."""
    rows = {
        holiday.date: Holiday(
            calendar=calendar,
            date=holiday.date,
            name=holiday.name,
            recurs_yearly=holiday.recurs_yearly,
        )
        for holiday in holidays
    }
    Holiday.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["calendar", "date"],
        update_fields=["name", "recurs_yearly"],
    )
    return len(rows)
