from datetime import date
from zoneinfo import ZoneInfo

import pytest

from sla.ics import IcsError, ImportedHoliday, holidays_from_ics
from sla.models import Holiday
from sla.services.holidays import calendar_holidays_import
from tests import factories

ROME = ZoneInfo("Europe/Rome")


def ics(*events: str) -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{index}\r\n{event}END:VEVENT\r\n"
        for index, event in enumerate(events)
    )
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n".encode()
    )


def test_an_all_day_event_closes_each_of_its_days():
    parsed = holidays_from_ics(
        ics("DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261227\r\nSUMMARY:Christmas\r\n"),
        zone=ROME,
    )
    assert [holiday.date for holiday in parsed.holidays] == [
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]


def test_an_event_repeating_every_year_is_a_yearly_holiday():
    parsed = holidays_from_ics(
        ics("DTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:New Year\r\n"), zone=ROME
    )
    assert parsed.holidays == [
        ImportedHoliday(date=date(2026, 1, 1), name="New Year", recurs_yearly=True)
    ]


def test_a_timed_event_closes_its_day_in_the_calendar_zone():
    # 23:30 UTC on 1 June is 01:30 on 2 June in Rome.
    parsed = holidays_from_ics(
        ics("DTSTART:20260601T233000Z\r\nDTEND:20260602T000000Z\r\n"), zone=ROME
    )
    assert [holiday.date for holiday in parsed.holidays] == [date(2026, 6, 2)]


@pytest.mark.parametrize(
    "rule", ["RRULE:FREQ=WEEKLY", "RRULE:FREQ=YEARLY;COUNT=2"], ids=["weekly", "yearly-with-an-end"]
)
def test_other_repetitions_are_left_out_and_reported(rule):
    parsed = holidays_from_ics(
        ics(f"DTSTART;VALUE=DATE:20260601\r\n{rule}\r\nSUMMARY:Team day\r\n"), zone=ROME
    )
    assert (parsed.holidays, parsed.skipped) == ([], ["Team day"])


def test_a_file_that_is_not_icalendar_is_refused():
    with pytest.raises(IcsError):
        holidays_from_ics(b"\x00garbage", zone=ROME)


def test_importing_again_updates_dates_the_calendar_has(db):
    calendar = factories.business_calendar()
    factories.holiday(calendar=calendar, date=date(2026, 12, 25), name="Xmas", recurs_yearly=False)

    written = calendar_holidays_import(
        calendar=calendar,
        holidays=[
            ImportedHoliday(date=date(2026, 12, 25), name="Christmas", recurs_yearly=True),
            ImportedHoliday(date=date(2026, 12, 26), name="St Stephen", recurs_yearly=True),
        ],
    )

    assert written == 2
    assert list(Holiday.objects.values_list("date", "name", "recurs_yearly")) == [
        (date(2026, 12, 25), "Christmas", True),
        (date(2026, 12, 26), "St Stephen", True),
    ]
