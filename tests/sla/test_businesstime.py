from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.businesstime import (
    DAY_SECONDS,
    WALL_CLOCK,
    Calendar,
    ScheduleError,
    business_add,
    business_between,
    day_openings,
)

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)
NINE_TO_FIVE = day_openings([(time(9), time(17))])


def weekdays(openings, weekend=()) -> tuple:
    return (openings,) * 5 + (weekend,) * 2


def every_day(*intervals: tuple[time, time]) -> tuple:
    return (day_openings(intervals),) * 7


# --- Strategies -----------------------------------------------------------------------------
# Zones with DST shifts of an hour (Rome, New York) and of half an hour (Lord Howe), and none.
zones = st.sampled_from([ROME, NEW_YORK, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("UTC")])


@st.composite
def day_schedules(draw) -> tuple:
    # Quarter-hour boundaries, so that openings often start or end inside a DST gap or overlap.
    points = draw(st.lists(st.integers(0, 96), min_size=0, max_size=6, unique=True).map(sorted))
    points = points[: len(points) // 2 * 2]
    return tuple((points[i] * 900, points[i + 1] * 900) for i in range(0, len(points), 2))


@st.composite
def calendars(draw) -> Calendar:
    weekly = tuple(draw(day_schedules()) for _ in range(7))
    if not any(weekly):
        weekly = (((9 * 3600, 17 * 3600),),) + weekly[1:]
    holiday_dates = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
    return Calendar(
        zone=draw(zones),
        weekly=weekly,
        holidays=frozenset(draw(st.lists(holiday_dates, max_size=8))),
        yearly_holidays=frozenset(
            (day.month, day.day) for day in draw(st.lists(holiday_dates, max_size=3))
        ),
    )


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(), max_value=timedelta(days=12))


# --- Properties -----------------------------------------------------------------------------
@settings(deadline=None)
@given(calendar=calendars(), start=instants, duration=durations)
def test_between_measures_what_add_added(calendar, start, duration):
    assert business_between(calendar, start, business_add(calendar, start, duration)) == duration


@settings(deadline=None)
@given(calendar=calendars(), start=instants, span=durations)
def test_add_of_between_lands_on_or_before_end_with_no_business_time_left(calendar, start, span):
    end = start + span
    landed = business_add(calendar, start, business_between(calendar, start, end))
    assert start <= landed <= end
    # Whatever lies between the landing and the end is closed time: the end is at or before
    # the next business instant after the landing.
    assert business_between(calendar, landed, end) == timedelta()


@settings(deadline=None)
@given(calendar=calendars(), instants=st.lists(instants, min_size=3, max_size=3).map(sorted))
def test_between_is_additive(calendar, instants):
    first, middle, last = instants
    assert business_between(calendar, first, middle) + business_between(calendar, middle, last) == (
        business_between(calendar, first, last)
    )


@settings(deadline=None)
@given(
    calendar=calendars(),
    start=instants,
    durations=st.lists(durations, min_size=2, max_size=2).map(sorted),
)
def test_add_and_between_are_monotonic(calendar, start, durations):
    shorter, longer = durations
    assert business_add(calendar, start, shorter) <= business_add(calendar, start, longer)
    assert business_between(calendar, start, start + shorter) <= business_between(
        calendar, start, start + longer
    )
    assert business_between(calendar, start, start + longer) <= longer


@settings(deadline=None)
@given(zone=zones, start=instants, duration=durations)
def test_a_24_7_calendar_counts_wall_clock_time_in_any_zone(zone, start, duration):
    calendar = Calendar(zone=zone, weekly=(((0, DAY_SECONDS),),) * 7)
    assert business_add(calendar, start, duration) == start + duration
    assert business_between(calendar, start, start + duration) == duration


# --- Fixed cases: DST -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "day", "length"),
    [
        (ROME, date(2026, 3, 29), timedelta(hours=23)),
        (ROME, date(2026, 10, 25), timedelta(hours=25)),
        (NEW_YORK, date(2026, 3, 8), timedelta(hours=23)),
        (NEW_YORK, date(2026, 11, 1), timedelta(hours=25)),
    ],
)
def test_an_all_day_opening_lasts_as_long_as_the_day_on_dst_changes(zone, day, length):
    calendar = Calendar(zone=zone, weekly=every_day((time(0), time(0))))
    midnight = datetime.combine(day, time(), tzinfo=zone)
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    assert business_between(calendar, midnight, next_midnight) == length


def test_a_night_shift_spanning_spring_forward_in_rome_is_an_hour_shorter():
    calendar = Calendar(zone=ROME, weekly=every_day((time(1), time(5))))
    saturday_4am = datetime(2026, 3, 28, 4, tzinfo=ROME)
    # One hour on Saturday, then 01:00 CET + 1 h on Sunday is 03:00 CEST.
    deadline = business_add(calendar, saturday_4am, 2 * HOUR)
    assert deadline.astimezone(ROME) == datetime(2026, 3, 29, 3, tzinfo=ROME)
    assert deadline.astimezone(ROME).utcoffset() == timedelta(hours=2)


def test_a_night_shift_spanning_fall_back_in_rome_is_an_hour_longer():
    calendar = Calendar(zone=ROME, weekly=every_day((time(1), time(5))))
    sunday_1am = datetime(2026, 10, 25, 1, tzinfo=ROME)
    assert business_between(calendar, sunday_1am, sunday_1am + timedelta(days=1)) == 5 * HOUR
    assert business_add(calendar, sunday_1am, 5 * HOUR).astimezone(ROME) == datetime(
        2026, 10, 25, 5, tzinfo=ROME
    )


def test_an_opening_that_starts_in_the_skipped_hour_starts_at_the_jump():
    # 02:30 does not exist on 8 March 2026 in New York: the opening runs from the jump
    # (02:00 EST, which is 03:00 EDT) to 04:00 EDT.
    calendar = Calendar(zone=NEW_YORK, weekly=every_day((time(2, 30), time(4))))
    day = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert business_between(calendar, day, day + timedelta(days=1)) == HOUR
    assert business_add(calendar, day, timedelta(minutes=1)) == datetime(
        2026, 3, 8, 7, 1, tzinfo=UTC
    )


def test_an_opening_that_starts_in_the_repeated_hour_starts_at_its_first_occurrence():
    # 01:30 happens twice on 1 November 2026 in New York; from the first (EDT) to 03:00 EST.
    calendar = Calendar(zone=NEW_YORK, weekly=every_day((time(1, 30), time(3))))
    day = datetime(2026, 11, 1, tzinfo=NEW_YORK)
    assert business_between(calendar, day, day + timedelta(days=1)) == timedelta(
        hours=2, minutes=30
    )


@pytest.mark.parametrize(
    ("zone", "friday_4pm", "monday_10am"),
    [
        (NEW_YORK, datetime(2026, 3, 6, 16), datetime(2026, 3, 9, 10)),
        (NEW_YORK, datetime(2026, 10, 30, 16), datetime(2026, 11, 2, 10)),
        (ROME, datetime(2026, 3, 27, 16), datetime(2026, 3, 30, 10)),
        (ROME, datetime(2026, 10, 23, 16), datetime(2026, 10, 26, 10)),
    ],
)
def test_office_hours_keep_their_local_times_across_a_dst_weekend(zone, friday_4pm, monday_10am):
    calendar = Calendar(zone=zone, weekly=weekdays(NINE_TO_FIVE))
    start, end = friday_4pm.replace(tzinfo=zone), monday_10am.replace(tzinfo=zone)
    assert business_add(calendar, start, 2 * HOUR) == end
    assert business_between(calendar, start, end) == 2 * HOUR


# --- Fixed cases: holidays, split shifts, starts outside hours, 24/7 --------------------------
def test_a_holiday_is_skipped():
    calendar = Calendar(
        zone=ROME, weekly=weekdays(NINE_TO_FIVE), holidays=frozenset({date(2026, 12, 25)})
    )
    thursday_4pm = datetime(2026, 12, 24, 16, tzinfo=ROME)
    assert business_add(calendar, thursday_4pm, 2 * HOUR) == datetime(2026, 12, 28, 10, tzinfo=ROME)


def test_a_yearly_holiday_recurs_in_later_years():
    calendar = Calendar(
        zone=ROME, weekly=weekdays(NINE_TO_FIVE), yearly_holidays=frozenset({(1, 6)})
    )
    tuesday_4pm = datetime(2027, 1, 5, 16, tzinfo=ROME)
    assert business_add(calendar, tuesday_4pm, 2 * HOUR) == datetime(2027, 1, 7, 10, tzinfo=ROME)


def test_split_shifts_skip_the_break():
    calendar = Calendar(
        zone=ROME, weekly=weekdays(day_openings([(time(9), time(13)), (time(14), time(18))]))
    )
    monday = datetime(2026, 6, 1, tzinfo=ROME)
    assert business_add(calendar, monday.replace(hour=12, minute=30), HOUR) == monday.replace(
        hour=14, minute=30
    )
    assert business_between(calendar, monday.replace(hour=12), monday.replace(hour=15)) == 2 * HOUR


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (datetime(2026, 6, 6, 3), datetime(2026, 6, 8, 10)),  # Saturday night: Monday
        (datetime(2026, 6, 8, 7), datetime(2026, 6, 8, 10)),  # before opening: the same day
        (datetime(2026, 6, 8, 20), datetime(2026, 6, 9, 10)),  # after closing: the next day
    ],
)
def test_a_start_outside_business_hours_counts_from_the_next_opening(start, expected):
    calendar = Calendar(zone=ROME, weekly=weekdays(NINE_TO_FIVE))
    assert business_add(calendar, start.replace(tzinfo=ROME), HOUR) == expected.replace(tzinfo=ROME)


def test_time_that_runs_out_at_closing_time_ends_at_closing_time():
    calendar = Calendar(zone=ROME, weekly=weekdays(NINE_TO_FIVE))
    monday_4pm = datetime(2026, 6, 8, 16, tzinfo=ROME)
    assert business_add(calendar, monday_4pm, HOUR) == monday_4pm.replace(hour=17)


def test_the_wall_clock_calendar_adds_elapsed_time_across_dst():
    before_the_jump = datetime(2026, 3, 29, 1, 30, tzinfo=ROME)
    assert business_add(WALL_CLOCK, before_the_jump, HOUR) == datetime(
        2026, 3, 29, 3, 30, tzinfo=ROME
    )


# --- Schedules that cannot be -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        ([(time(10), time(9))], "10:00–09:00 must end after it starts."),
        ([(time(9), time(13)), (time(12), time(14))], "09:00–13:00 overlaps 12:00–14:00."),
    ],
)
def test_impossible_openings_are_refused(intervals, message):
    with pytest.raises(ScheduleError, match=message):
        day_openings(intervals)


def test_touching_openings_and_an_end_at_midnight_are_accepted():
    assert day_openings([(time(13), time(0)), (time(9), time(13))]) == (
        (9 * 3600, 13 * 3600),
        (13 * 3600, DAY_SECONDS),
    )


def test_a_calendar_without_openings_is_refused():
    with pytest.raises(ScheduleError):
        Calendar(zone=ROME, weekly=((),) * 7)


def test_adding_to_a_calendar_that_never_opens_again_fails_instead_of_looping():
    every_date = frozenset(
        (day.month, day.day) for day in (date(2028, 1, 1) + timedelta(n) for n in range(366))
    )
    calendar = Calendar(zone=ROME, weekly=weekdays(NINE_TO_FIVE), yearly_holidays=every_date)
    with pytest.raises(ScheduleError, match="never opens"):
        business_add(calendar, datetime(2026, 6, 8, tzinfo=ROME), HOUR)
