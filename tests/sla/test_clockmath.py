from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from sla import clockmath
from sla.businesstime import WALL_CLOCK, Calendar, business_add, day_openings
from sla.clockmath import Status

ROME = ZoneInfo("Europe/Rome")
HOUR = timedelta(hours=1)
OFFICE = Calendar(zone=ROME, weekly=(day_openings([(time(9), time(17))]),) * 5 + ((), ()))


@pytest.mark.parametrize(
    ("minutes", "percent", "point"),
    [
        (15, None, timedelta(minutes=45)),
        (None, 75, timedelta(minutes=45)),
        (90, None, timedelta()),
        (None, None, None),
    ],
)
def test_warning_point(minutes, percent, point):
    assert clockmath.warning_point(budget=HOUR, minutes=minutes, percent=percent) == point


def test_pause_and_resume_across_a_dst_weekend_moves_the_deadline_by_the_paused_business_time():
    """Two business hours, paused from Friday 10:00 to Monday 11:00 after one hour was used."""
    started = datetime(2026, 3, 27, 9, tzinfo=ROME)
    paused = started.replace(hour=10)
    consumed = clockmath.used(calendar=OFFICE, consumed=timedelta(), resumed_at=started, at=paused)
    assert consumed == HOUR
    reach = partial(
        clockmath.reached_at, calendar=OFFICE, consumed=consumed, point=2 * HOUR, previous=None
    )
    assert reach(since=paused, running=False) is None
    deadline = reach(since=datetime(2026, 3, 30, 11, tzinfo=ROME), running=True)
    assert deadline == datetime(2026, 3, 30, 12, tzinfo=ROME)


MONDAY_10AM, TUESDAY_9AM = (
    datetime(2026, 6, 8, 10, tzinfo=ROME),
    datetime(2026, 6, 9, 9, tzinfo=ROME),
)
FRIDAY_4PM = datetime(2026, 6, 5, 16, tzinfo=ROME)


@pytest.mark.parametrize(
    ("calendar", "consumed", "since", "previous", "expected"),
    [
        # Passed before the clock resumed: when it passed is kept.
        (OFFICE, 2 * HOUR, TUESDAY_9AM, MONDAY_10AM, MONDAY_10AM),
        # Passed only under a smaller budget given now: it is reached now.
        (WALL_CLOCK, 2 * HOUR, TUESDAY_9AM, TUESDAY_9AM + HOUR, TUESDAY_9AM),
        # Not passed: reached in business time, Monday 10:00 after Friday's last hour.
        (OFFICE, timedelta(), FRIDAY_4PM, None, business_add(OFFICE, FRIDAY_4PM, HOUR)),
    ],
    ids=["passed-before-resuming", "passed-under-a-new-budget", "ahead"],
)
def test_when_a_running_clock_reaches_a_point(calendar, consumed, since, previous, expected):
    reached = clockmath.reached_at(
        calendar=calendar,
        consumed=consumed,
        point=HOUR,
        since=since,
        running=True,
        previous=previous,
    )
    assert reached == expected


@pytest.mark.parametrize(
    ("warned", "breached", "expected"),
    [(False, False, "warn"), (True, False, "deadline"), (True, True, None)],
)
def test_the_scan_looks_at_the_warning_then_the_deadline_then_never(warned, breached, expected):
    instants = {
        "warn": datetime(2026, 6, 8, 9, tzinfo=ROME),
        "deadline": datetime(2026, 6, 8, 10, tzinfo=ROME),
    }
    check = clockmath.next_check(
        warn_at=instants["warn"], deadline=instants["deadline"], warned=warned, breached=breached
    )
    assert check == instants.get(expected)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"used_time": timedelta(minutes=10)}, Status.OK),
        ({"used_time": timedelta(minutes=50)}, Status.WARNING),
        ({"used_time": HOUR}, Status.BREACHED),
        ({"used_time": timedelta(minutes=10), "breached": True}, Status.BREACHED),
        ({"used_time": timedelta(minutes=50), "paused": True}, Status.PAUSED),
        ({"used_time": 2 * HOUR, "paused": True}, Status.BREACHED),
        ({"used_time": HOUR, "stopped_outcome": "met"}, Status.MET),
        ({"used_time": HOUR, "stopped_outcome": "breached"}, Status.BREACHED),
    ],
)
def test_status(case, expected):
    arguments = {
        "stopped_outcome": None,
        "paused": False,
        "budget": HOUR,
        "warn_point": timedelta(minutes=45),
        "breached": False,
        **case,
    }
    assert clockmath.status(**arguments) == expected
