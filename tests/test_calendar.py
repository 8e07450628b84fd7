from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.calendar import BusinessCalendar, Weekday
from domain.durations import parse_duration

pytestmark = pytest.mark.unit

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
JULY_3 = date(2026, 7, 3)  # Friday, observed Independence Day
CAL = BusinessCalendar()
HOLIDAY_CAL = BusinessCalendar(holidays=[JULY_3])


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


# --- business days -----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (ny(2026, 6, 5, 17), 3, ny(2026, 6, 10, 17)),  # Friday close -> Wednesday close
        (ny(2026, 6, 5, 10, 15), 1, ny(2026, 6, 8, 10, 15)),
        (ny(2026, 6, 8, 9), 5, ny(2026, 6, 15, 9)),  # a whole week
        (ny(2026, 6, 8, 23, 30), 1, ny(2026, 6, 9, 23, 30)),  # hours do not matter for bd
        (ny(2026, 6, 6, 14), 1, ny(2026, 6, 9, 9)),  # Saturday -> count from Monday opening
        (ny(2026, 6, 6, 14), 0, ny(2026, 6, 8, 9)),
        (ny(2026, 6, 7, 23, 59), 0, ny(2026, 6, 8, 9)),  # Sunday night
    ],
)
def test_add_business_days(start, n, expected):
    assert CAL.add_business_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "n", "with_holiday", "without"),
    [
        (ny(2026, 7, 1, 10), 3, ny(2026, 7, 7, 10), ny(2026, 7, 6, 10)),
        (ny(2026, 7, 2, 16), 1, ny(2026, 7, 6, 16), ny(2026, 7, 3, 16)),
        (ny(2026, 7, 3, 11), 0, ny(2026, 7, 6, 9), ny(2026, 7, 3, 11)),  # start on the holiday
        (ny(2026, 7, 3, 11), 1, ny(2026, 7, 7, 9), ny(2026, 7, 6, 11)),
    ],
)
def test_holiday_pushes_by_one_day(start, n, with_holiday, without):
    assert HOLIDAY_CAL.add_business_days(start, n) == with_holiday
    assert CAL.add_business_days(start, n) == without


def test_zero_on_working_day_returns_same_instant_in_calendar_zone():
    start = datetime(2026, 6, 9, 15, 37, 12, tzinfo=UTC)
    result = CAL.add_business_days(start, 0)
    assert result == start
    assert result.tzinfo == NY


@pytest.mark.parametrize(
    ("start", "expected", "utc_hours"),
    [
        # DST ends Sunday 2026-11-01: the wall clock stays at 10:00, so one extra real hour.
        (ny(2026, 10, 30, 10), ny(2026, 11, 4, 10), 5 * 24 + 1),
        # DST starts Sunday 2026-03-08: one real hour fewer.
        (ny(2026, 3, 6, 10), ny(2026, 3, 11, 10), 5 * 24 - 1),
    ],
)
def test_business_days_keep_wall_clock_across_dst(start, expected, utc_hours):
    result = CAL.add_business_days(start, 3)
    assert result == expected
    assert (result.hour, result.minute) == (10, 0)
    assert result.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=utc_hours)
    assert result.utcoffset() != start.utcoffset()


def test_wall_time_in_spring_forward_gap_moves_forward():
    every_day = BusinessCalendar(workdays=list(Weekday))
    result = every_day.add_business_days(ny(2026, 3, 7, 2, 30), 1)  # 02:30 on 3/8 does not exist
    assert result.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert (result.date(), result.hour, result.minute) == (date(2026, 3, 8), 3, 30)


def test_ambiguous_fall_back_time_uses_first_occurrence():
    every_day = BusinessCalendar(workdays=list(Weekday))
    result = every_day.add_business_days(ny(2026, 10, 31, 1, 30), 1)  # 01:30 happens twice on 11/1
    assert result.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


# --- business hours ----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (ny(2026, 6, 5, 16), 2, ny(2026, 6, 8, 10)),  # Friday afternoon -> Monday
        (ny(2026, 6, 8, 20), 1, ny(2026, 6, 9, 10)),  # evening
        (ny(2026, 6, 9, 7), 1, ny(2026, 6, 9, 10)),  # before opening
        (ny(2026, 6, 6, 12), 3, ny(2026, 6, 8, 12)),  # Saturday
        (ny(2026, 6, 8, 15), 2, ny(2026, 6, 8, 17)),  # lands exactly on day_end
        (ny(2026, 6, 8, 9), 8, ny(2026, 6, 8, 17)),
        (ny(2026, 6, 8, 9), 9, ny(2026, 6, 9, 10)),
        (ny(2026, 6, 8, 9), 40, ny(2026, 6, 12, 17)),  # whole week ends Friday close
        (ny(2026, 6, 8, 12, 30), 0, ny(2026, 6, 8, 12, 30)),
        (ny(2026, 6, 8, 17), 0, ny(2026, 6, 9, 9)),  # closing is outside the period
        (ny(2026, 6, 8, 16, 45), 1, ny(2026, 6, 9, 9, 45)),
        (ny(2026, 10, 30, 16), 2, ny(2026, 11, 2, 10)),  # across DST end
    ],
)
def test_add_business_hours(start, n, expected):
    assert CAL.add_business_hours(start, n) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (ny(2026, 7, 2, 16), 2, ny(2026, 7, 6, 10)),
        (ny(2026, 7, 3, 10), 1, ny(2026, 7, 6, 10)),  # start on the holiday
    ],
)
def test_business_hours_skip_holidays(start, n, expected):
    assert HOLIDAY_CAL.add_business_hours(start, n) == expected


# --- add() dispatch ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3bd", ny(2026, 11, 4, 10)),
        ("2bh", ny(2026, 10, 30, 12)),
        ("48h", ny(2026, 11, 1, 9)),  # 48 real hours: DST end makes the wall clock read 09:00
        ("7d", ny(2026, 11, 6, 9)),
        ("30m", ny(2026, 10, 30, 10, 30)),
    ],
)
def test_add_dispatches_by_unit(text, expected):
    start = ny(2026, 10, 30, 10)
    result = CAL.add(start, parse_duration(text))
    assert result == expected
    assert result.tzinfo == NY


def test_clock_durations_are_absolute_elapsed_time():
    # Subtract in UTC: datetimes sharing a tzinfo subtract by wall clock.
    start = ny(2026, 10, 30, 10).astimezone(UTC)
    for text, hours in [("48h", 48), ("7d", 168), ("2d3h", 51)]:
        assert CAL.add(start, parse_duration(text)).astimezone(UTC) - start == timedelta(hours=hours)


# --- other timezones and week shapes -----------------------------------------


def test_berlin_calendar_and_its_own_dst_end():
    berlin = BusinessCalendar(timezone="Europe/Berlin", day_start=time(8), day_end=time(16))
    start = datetime(2026, 10, 23, 8, tzinfo=UTC)  # Friday 10:00 CEST
    result = berlin.add_business_days(start, 1)
    assert result == datetime(2026, 10, 26, 10, tzinfo=BERLIN)  # Monday 10:00 CET
    assert result.tzinfo == BERLIN
    assert result - start == timedelta(hours=73)
    assert berlin.add_business_hours(start, 7) == datetime(2026, 10, 26, 9, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (datetime(2026, 6, 4, 10, tzinfo=ZoneInfo("Asia/Jerusalem")), 1, (date(2026, 6, 7), time(10))),
        (datetime(2026, 6, 5, 10, tzinfo=ZoneInfo("Asia/Jerusalem")), 0, (date(2026, 6, 7), time(9))),
        (datetime(2026, 6, 7, 10, tzinfo=ZoneInfo("Asia/Jerusalem")), 4, (date(2026, 6, 11), time(10))),
    ],
)
def test_sunday_to_thursday_week(start, n, expected):
    cal = BusinessCalendar(
        timezone="Asia/Jerusalem",
        workdays=[Weekday.SUN, Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU],
    )
    result = cal.add_business_days(start, n)
    assert (result.date(), result.time()) == expected
    assert not cal.is_working_day(date(2026, 6, 5))  # Friday
    assert cal.is_working_day(date(2026, 6, 7))  # Sunday


@pytest.mark.parametrize(
    ("day", "working"),
    [(date(2026, 6, 8), True), (date(2026, 6, 6), False), (date(2026, 6, 7), False), (JULY_3, False)],
)
def test_is_working_day(day, working):
    assert HOLIDAY_CAL.is_working_day(day) is working


def test_is_working_day_reads_a_datetime_in_calendar_zone():
    saturday_utc_is_friday_in_ny = datetime(2026, 6, 6, 2, tzinfo=UTC)
    assert CAL.is_working_day(saturday_utc_is_friday_in_ny)


# --- validation --------------------------------------------------------------


def test_defaults():
    assert CAL.timezone == "America/New_York"
    assert CAL.workdays == [Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI]
    assert (CAL.holidays, CAL.day_start, CAL.day_end) == ([], time(9), time(17))


def test_parses_from_plain_data():
    cal = BusinessCalendar.model_validate(
        {
            "timezone": "Europe/Berlin",
            "workdays": ["mon", "tue"],
            "holidays": ["2026-12-25"],
            "day_start": "08:00",
        }
    )
    assert cal.workdays == [Weekday.MON, Weekday.TUE]
    assert cal.holidays == [date(2026, 12, 25)]
    assert cal.day_start == time(8)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "Mars/Olympus_Mons"),
        ({"timezone": ""}, "unknown IANA timezone"),
        ({"timezone": "America"}, "America"),
        ({"day_start": time(17), "day_end": time(17)}, "must be before"),
        ({"day_start": time(18), "day_end": time(9)}, "must be before"),
        ({"workdays": []}, "at least one workday"),
        ({"workdays": ["funday"]}, "workdays"),
        ({"day_start": time(9, tzinfo=UTC)}, "tzinfo"),
        ({"weekends": ["sat"]}, "weekends"),
    ],
)
def test_validation_errors(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        BusinessCalendar(**kwargs)


def test_calendar_is_frozen():
    with pytest.raises(ValidationError):
        CAL.timezone = "UTC"


@pytest.mark.parametrize(
    "call",
    [
        lambda: CAL.add_business_days(datetime(2026, 6, 8, 10), 1),
        lambda: CAL.add_business_hours(datetime(2026, 6, 8, 10), 1),
        lambda: CAL.add(datetime(2026, 6, 8, 10), parse_duration("1h")),
        lambda: CAL.is_working_day(datetime(2026, 6, 8, 10)),
    ],
)
def test_naive_datetimes_are_rejected(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_counts_must_be_non_negative_ints(n):
    with pytest.raises(ValueError, match="non-negative int"):
        CAL.add_business_days(ny(2026, 6, 8, 10), n)
    with pytest.raises(ValueError, match="non-negative int"):
        CAL.add_business_hours(ny(2026, 6, 8, 10), n)


# --- properties --------------------------------------------------------------

PROPERTY_CALENDARS = [
    BusinessCalendar(holidays=[JULY_3, date(2026, 11, 26), date(2026, 12, 25)]),
    BusinessCalendar(timezone="Europe/Berlin", workdays=[Weekday.SUN, Weekday.WED]),
    BusinessCalendar(timezone="Asia/Kolkata", workdays=[Weekday.SAT], day_start=time(22), day_end=time(23)),
]

aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2060, 1, 1),
    timezones=st.sampled_from([UTC, NY, BERLIN, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Asia/Kolkata")]),
)


@given(cal=st.sampled_from(PROPERTY_CALENDARS), start=aware_datetimes, n=st.integers(0, 30))
def test_business_days_property(cal, start, n):
    # Compared in UTC because same-tzinfo comparisons ignore fold.
    result = cal.add_business_days(start, n)
    assert cal.is_working_day(result.date())
    assert result.astimezone(UTC) >= start.astimezone(UTC)
    assert cal.add_business_days(start, n + 1).astimezone(UTC) > result.astimezone(UTC)


@given(cal=st.sampled_from(PROPERTY_CALENDARS), start=aware_datetimes, n=st.integers(0, 60))
def test_business_hours_property(cal, start, n):
    result = cal.add_business_hours(start, n)
    local = result.astimezone(cal.tz)
    assert cal.is_working_day(local.date())
    assert cal.day_start <= local.time().replace(fold=0) <= cal.day_end
    assert result.astimezone(UTC) >= start.astimezone(UTC)
    assert cal.add_business_hours(start, n + 1).astimezone(UTC) > result.astimezone(UTC)
