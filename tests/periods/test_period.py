"""TimePeriod evaluation: windows, contains, next_transition, DST, includes and excludes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from director_jobs.periods import TimePeriod
from director_jobs.periods.period import (
    CACHE_SIZE,
    HORIZON_DAYS,
    _bucket,
    _day_segments,
    clear_caches,
)

from .helpers import BERLIN, NEW_YORK, local_windows, utc

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
EVERY_DAY = (*WEEKDAYS, "saturday", "sunday")


def work_hours(**kwargs: object) -> TimePeriod:
    """Monday to Friday 09:00-17:00 in Berlin."""
    return TimePeriod({day: "09:00-17:00" for day in WEEKDAYS}, timezone="Europe/Berlin", **kwargs)  # type: ignore[arg-type]


def berlin(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    """A wall-clock time in Berlin (fold=0)."""
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=BERLIN)


# --- windows: values, overnight, DST ---------------------------------------------------

# (ranges, zone, first local day, days, expected windows as local ISO strings)
WINDOW_CASES: list[tuple[Mapping[str, str], str, date, int, list[tuple[str, str]]]] = [
    (
        {"monday": "09:00-12:00,13:00-17:00"},
        "Europe/Berlin",
        date(2026, 1, 5),
        1,
        [
            ("2026-01-05T09:00:00+01:00", "2026-01-05T12:00:00+01:00"),
            ("2026-01-05T13:00:00+01:00", "2026-01-05T17:00:00+01:00"),
        ],
    ),
    # leading zeros are optional, seconds are allowed
    (
        {"monday": "9:5-9:07:30"},
        "Europe/Berlin",
        date(2026, 1, 5),
        1,
        [("2026-01-05T09:05:00+01:00", "2026-01-05T09:07:30+01:00")],
    ),
    # overlapping and touching ranges of several keys merge
    (
        {"monday": "09:00-10:00", "day 5": "09:30-11:00", "2026-01-05": "11:00-12:00"},
        "Europe/Berlin",
        date(2026, 1, 5),
        1,
        [("2026-01-05T09:00:00+01:00", "2026-01-05T12:00:00+01:00")],
    ),
    # overnight: an end at or before the begin runs into the next day
    (
        {"friday": "22:00-06:00"},
        "Europe/Berlin",
        date(2026, 1, 9),
        3,
        [("2026-01-09T22:00:00+01:00", "2026-01-10T06:00:00+01:00")],
    ),
    (
        {"friday": "09:00-09:00"},
        "Europe/Berlin",
        date(2026, 1, 9),
        3,
        [("2026-01-09T09:00:00+01:00", "2026-01-10T09:00:00+01:00")],
    ),
    (
        {"friday": "00:00-00:00", "saturday": "00:00-24:00"},
        "Europe/Berlin",
        date(2026, 1, 8),
        4,
        [("2026-01-09T00:00:00+01:00", "2026-01-11T00:00:00+01:00")],
    ),
    # an overnight range of the month's last day runs into the 1st
    (
        {"day -1": "20:00-04:00"},
        "Europe/Berlin",
        date(2026, 2, 27),
        3,
        [("2026-02-28T20:00:00+01:00", "2026-03-01T04:00:00+01:00")],
    ),
    # leap years: the last day of February 2024 is the 29th
    (
        {"day -1": "10:00-11:00"},
        "UTC",
        date(2024, 2, 27),
        4,
        [("2024-02-29T10:00:00+00:00", "2024-02-29T11:00:00+00:00")],
    ),
    # an empty value is valid and adds nothing
    ({"monday": "", "tuesday": "  "}, "Europe/Berlin", date(2026, 1, 5), 2, []),
    # year end
    (
        {"december 31": "23:00-01:00", "january 1": "01:00-02:00"},
        "UTC",
        date(2026, 12, 30),
        4,
        [("2026-12-31T23:00:00+00:00", "2027-01-01T02:00:00+00:00")],
    ),
    # Berlin spring forward, 2026-03-29 02:00 -> 03:00: a time in the gap is read with the old
    # offset (+01:00), so 02:30 is 01:30 UTC = 03:30 CEST
    (
        {"2026-03-29": "02:30-04:00"},
        "Europe/Berlin",
        date(2026, 3, 29),
        1,
        [("2026-03-29T03:30:00+02:00", "2026-03-29T04:00:00+02:00")],
    ),
    # 02:00-03:00 on that day is 01:00-01:00 UTC: empty, as in Icinga 2
    ({"2026-03-29": "02:00-03:00"}, "Europe/Berlin", date(2026, 3, 29), 1, []),
    (
        {"2026-03-29": "01:00-02:30"},
        "Europe/Berlin",
        date(2026, 3, 29),
        1,
        [("2026-03-29T01:00:00+01:00", "2026-03-29T03:30:00+02:00")],
    ),
    # whole days follow real day lengths: 23 hours in spring, 25 in autumn
    (
        {"sunday": "00:00-24:00"},
        "Europe/Berlin",
        date(2026, 3, 28),
        3,
        [("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")],
    ),
    (
        {"sunday": "00:00-24:00"},
        "Europe/Berlin",
        date(2026, 10, 24),
        3,
        [("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00")],
    ),
    # an overnight range across the spring change is 7 hours long
    (
        {"saturday": "22:00-06:00"},
        "Europe/Berlin",
        date(2026, 3, 28),
        2,
        [("2026-03-28T22:00:00+01:00", "2026-03-29T06:00:00+02:00")],
    ),
    # Berlin fall back, 2026-10-25 03:00 -> 02:00: a repeated time is its first occurrence
    (
        {"2026-10-25": "02:30-03:30"},
        "Europe/Berlin",
        date(2026, 10, 25),
        1,
        [("2026-10-25T02:30:00+02:00", "2026-10-25T03:30:00+01:00")],
    ),
    (
        {"2026-10-24": "23:00-02:30"},
        "Europe/Berlin",
        date(2026, 10, 24),
        2,
        [("2026-10-24T23:00:00+02:00", "2026-10-25T02:30:00+02:00")],
    ),
    # New York spring forward, 2026-03-08 02:00 -> 03:00
    (
        {"2026-03-08": "02:30-04:00"},
        "America/New_York",
        date(2026, 3, 8),
        1,
        [("2026-03-08T03:30:00-04:00", "2026-03-08T04:00:00-04:00")],
    ),
    # New York fall back, 2026-11-01 02:00 -> 01:00
    (
        {"2026-11-01": "01:30-03:00"},
        "America/New_York",
        date(2026, 11, 1),
        1,
        [("2026-11-01T01:30:00-04:00", "2026-11-01T03:00:00-05:00")],
    ),
    (
        {"sunday": "00:00-24:00"},
        "America/New_York",
        date(2026, 11, 1),
        1,
        [("2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00")],
    ),
    # a stride across the spring change still counts calendar days
    (
        {"2026-03-27 - 2026-04-02 / 2": "00:00-24:00"},
        "Europe/Berlin",
        date(2026, 3, 26),
        8,
        [
            ("2026-03-27T00:00:00+01:00", "2026-03-28T00:00:00+01:00"),
            ("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
            ("2026-03-31T00:00:00+02:00", "2026-04-01T00:00:00+02:00"),
            ("2026-04-02T00:00:00+02:00", "2026-04-03T00:00:00+02:00"),
        ],
    ),
    (
        {"2026-03-28 - 2026-04-30 / 2": "12:00-13:00"},
        "Europe/Berlin",
        date(2026, 3, 28),
        3,
        [
            ("2026-03-28T12:00:00+01:00", "2026-03-28T13:00:00+01:00"),
            ("2026-03-30T12:00:00+02:00", "2026-03-30T13:00:00+02:00"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("ranges", "zone", "first", "days", "expected"),
    WINDOW_CASES,
    ids=[f"{case[1]}:{','.join(f'{k}={v}' for k, v in case[0].items())}" for case in WINDOW_CASES],
)
def test_windows(
    ranges: Mapping[str, str],
    zone: str,
    first: date,
    days: int,
    expected: list[tuple[str, str]],
) -> None:
    period = TimePeriod(ranges, timezone=zone)
    tz = period._zone
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    end = datetime.combine(first + timedelta(days=days), datetime.min.time(), tzinfo=tz)
    assert local_windows(period, start, end, tz) == expected


@pytest.mark.parametrize(
    ("zone", "first"),
    [
        ("Europe/Berlin", date(2026, 3, 27)),
        ("Europe/Berlin", date(2026, 10, 23)),
        ("America/New_York", date(2026, 3, 6)),
        ("America/New_York", date(2026, 10, 30)),
        ("Australia/Lord_Howe", date(2026, 4, 3)),
        ("America/Santiago", date(2026, 9, 4)),
    ],
)
def test_all_day_every_day_is_one_window_across_dst(zone: str, first: date) -> None:
    period = TimePeriod({day: "00:00-24:00" for day in EVERY_DAY}, timezone=zone)
    start = datetime(first.year, first.month, first.day, 12, tzinfo=period._zone)
    end = start + timedelta(days=5)
    assert list(period.windows(start, end)) == [(start.astimezone(UTC), end.astimezone(UTC))]
    assert period.next_transition(start) is None


def test_windows_are_clipped_merged_and_in_utc() -> None:
    period = TimePeriod({day: "00:00-24:00" for day in EVERY_DAY}, timezone="Europe/Berlin")
    start = datetime(2026, 1, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5)))
    end = start + timedelta(days=3, microseconds=7)
    windows = list(period.windows(start, end))
    assert windows == [(start, end)]
    assert all(begin.tzinfo is UTC and stop.tzinfo is UTC for begin, stop in windows)


def test_windows_empty_and_reversed_ranges() -> None:
    period = work_hours()
    start = berlin(2026, 1, 5, 10)
    assert list(period.windows(start, start)) == []
    assert list(period.windows(start, start - timedelta(days=1))) == []


def test_windows_of_a_week_of_work_hours() -> None:
    period = work_hours()
    windows = local_windows(period, berlin(2026, 1, 5), berlin(2026, 1, 12), BERLIN)
    assert windows == [
        (f"2026-01-{day:02}T09:00:00+01:00", f"2026-01-{day:02}T17:00:00+01:00")
        for day in range(5, 10)
    ]


# --- contains and next_transition -----------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "inside"),
    [
        (berlin(2026, 1, 5, 8, 59, 59), False),
        (berlin(2026, 1, 5, 9), True),
        (berlin(2026, 1, 5, 16, 59, 59, 999999), True),
        (berlin(2026, 1, 5, 17), False),
        (berlin(2026, 1, 10, 12), False),
        (utc(2026, 1, 5, 8), True),
        (utc(2026, 1, 5, 7, 59), False),
        (datetime(2026, 1, 5, 3, tzinfo=NEW_YORK), True),
    ],
)
def test_contains_begin_inclusive_end_exclusive(instant: datetime, inside: bool) -> None:
    assert work_hours().contains(instant) is inside


def test_contains_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        work_hours().contains(datetime(2026, 1, 5, 10))
    with pytest.raises(ValueError, match="aware"):
        work_hours().next_transition(datetime(2026, 1, 5, 10))
    with pytest.raises(ValueError, match="aware"):
        work_hours().windows(datetime(2026, 1, 5), utc(2026, 1, 6))


def test_instants_outside_supported_years_are_rejected() -> None:
    with pytest.raises(ValueError, match="years 2-9998"):
        work_hours().contains(datetime(9999, 12, 31, tzinfo=UTC))
    with pytest.raises(ValueError, match="years 2-9998"):
        work_hours().contains(datetime(1, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (berlin(2026, 1, 5, 8), berlin(2026, 1, 5, 9)),
        (berlin(2026, 1, 5, 9), berlin(2026, 1, 5, 17)),
        (berlin(2026, 1, 5, 8, 59, 59, 999999), berlin(2026, 1, 5, 9)),
        (berlin(2026, 1, 9, 17), berlin(2026, 1, 12, 9)),
        (berlin(2026, 1, 9, 16, 59, 59, 1), berlin(2026, 1, 9, 17)),
        # across the spring change: Friday 17:00 CET to Monday 09:00 CEST
        (berlin(2026, 3, 27, 18), berlin(2026, 3, 30, 9)),
    ],
)
def test_next_transition(after: datetime, expected: datetime) -> None:
    found = work_hours().next_transition(after)
    assert found == expected
    assert found is not None and found.tzinfo is UTC


def test_next_transition_of_overnight_range_crossing_utc_midnight() -> None:
    period = TimePeriod({"friday": "22:00-06:00"}, timezone="UTC")
    assert period.next_transition(utc(2026, 1, 9, 23)) == utc(2026, 1, 10, 6)
    assert period.next_transition(utc(2026, 1, 10, 6)) == utc(2026, 1, 16, 22)


def test_next_transition_at_utc_midnight_boundary() -> None:
    period = TimePeriod({"monday": "00:00-24:00"}, timezone="UTC")
    assert period.next_transition(utc(2026, 1, 4, 12)) == utc(2026, 1, 5)
    assert period.next_transition(utc(2026, 1, 5)) == utc(2026, 1, 6)
    assert period.contains(utc(2026, 1, 5))
    assert not period.contains(utc(2026, 1, 6))


def test_never_active_returns_none_at_once() -> None:
    assert TimePeriod({}).next_transition(utc(2026, 1, 1)) is None
    assert (
        TimePeriod({"monday": ""}, excludes=[work_hours()]).next_transition(utc(2026, 1, 1)) is None
    )
    assert not TimePeriod({}).contains(utc(2026, 1, 1))


def test_always_active_returns_none_after_the_horizon() -> None:
    clear_caches()
    period = TimePeriod({"day 1 - 31": "00:00-24:00"}, timezone="Europe/Berlin")
    assert period.next_transition(utc(2026, 1, 1)) is None
    assert HORIZON_DAYS >= 5 * 365 + 2
    # the caches stay bounded however far the search went
    for cache in (_bucket, _day_segments):
        info = cache.cache_info()
        assert info.maxsize == CACHE_SIZE
        assert HORIZON_DAYS <= info.currsize <= CACHE_SIZE


def test_next_transition_far_ahead_within_horizon() -> None:
    period = TimePeriod({"2030-06-01": "10:00-11:00"}, timezone="UTC")
    assert period.next_transition(utc(2026, 1, 1)) == utc(2030, 6, 1, 10)
    beyond = TimePeriod({"2032-06-01": "10:00-11:00"}, timezone="UTC")
    assert beyond.next_transition(utc(2026, 1, 1)) is None


def test_leap_day_period() -> None:
    period = TimePeriod({"february 29": "00:00-24:00"}, timezone="UTC")
    assert period.next_transition(utc(2025, 1, 1)) == utc(2028, 2, 29)
    assert period.contains(utc(2024, 2, 29, 12))
    assert not period.contains(utc(2026, 3, 1, 12))


# --- includes and excludes --------------------------------------------------------------

BASE = {"monday": "09:00-17:00"}
LUNCH = {"monday": "12:00-13:00"}
MEETING = {"monday": "12:30-14:00"}


@pytest.mark.parametrize(
    ("prefer_includes", "expected"),
    [
        # excludes removed first, then includes added: the include wins over the exclude
        (True, [("09:00", "12:00"), ("12:30", "17:00")]),
        # includes added first, then excludes removed: the exclude wins
        (False, [("09:00", "12:00"), ("13:00", "17:00")]),
    ],
)
def test_prefer_includes(prefer_includes: bool, expected: list[tuple[str, str]]) -> None:
    period = TimePeriod(
        BASE,
        includes=[TimePeriod(MEETING, timezone="Europe/Berlin")],
        excludes=[TimePeriod(LUNCH, timezone="Europe/Berlin")],
        prefer_includes=prefer_includes,
        timezone="Europe/Berlin",
    )
    windows = local_windows(period, berlin(2026, 1, 5), berlin(2026, 1, 6), BERLIN)
    assert windows == [
        (f"2026-01-05T{begin}:00+01:00", f"2026-01-05T{end}:00+01:00") for begin, end in expected
    ]


def test_exclude_holidays_and_edges() -> None:
    holidays = TimePeriod({"2026-01-06": "00:00-24:00"}, timezone="Europe/Berlin")
    evening = TimePeriod({"monday": "17:00-18:00"}, timezone="Europe/Berlin")
    period = work_hours(excludes=[holidays, evening])
    windows = local_windows(period, berlin(2026, 1, 5), berlin(2026, 1, 8), BERLIN)
    # an exclusion that only touches a window's edge leaves it unchanged
    assert windows == [
        ("2026-01-05T09:00:00+01:00", "2026-01-05T17:00:00+01:00"),
        ("2026-01-07T09:00:00+01:00", "2026-01-07T17:00:00+01:00"),
    ]
    assert not period.contains(berlin(2026, 1, 6, 12))
    assert period.next_transition(berlin(2026, 1, 5, 17)) == berlin(2026, 1, 7, 9)


def test_includes_only_and_in_other_time_zones() -> None:
    # 12:00-13:00 in New York (EST, -05:00) is 18:00-19:00 in Berlin (CET, +01:00)
    new_york = TimePeriod({"monday": "12:00-13:00"}, timezone="America/New_York")
    period = TimePeriod({}, includes=[new_york, work_hours()], timezone="Asia/Tokyo")
    windows = local_windows(period, berlin(2026, 1, 5), berlin(2026, 1, 6), BERLIN)
    assert windows == [
        ("2026-01-05T09:00:00+01:00", "2026-01-05T17:00:00+01:00"),
        ("2026-01-05T18:00:00+01:00", "2026-01-05T19:00:00+01:00"),
    ]


def test_nested_includes_and_excludes() -> None:
    inner = TimePeriod({"monday": "10:00-11:00"}, timezone="UTC")
    middle = TimePeriod({}, includes=[inner], timezone="UTC")
    outer = TimePeriod({"monday": "08:00-12:00"}, excludes=[middle], timezone="UTC")
    assert local_windows(outer, utc(2026, 1, 5), utc(2026, 1, 6), UTC) == [  # type: ignore[arg-type]
        ("2026-01-05T08:00:00+00:00", "2026-01-05T10:00:00+00:00"),
        ("2026-01-05T11:00:00+00:00", "2026-01-05T12:00:00+00:00"),
    ]


def test_shared_period_in_includes_and_excludes() -> None:
    shared = TimePeriod({"monday": "10:00-11:00"})
    preferred = TimePeriod({}, includes=[shared], excludes=[shared])
    not_preferred = TimePeriod({}, includes=[shared], excludes=[shared], prefer_includes=False)
    assert preferred.contains(utc(2026, 1, 5, 10, 30))
    assert not not_preferred.contains(utc(2026, 1, 5, 10, 30))


# --- object behaviour -------------------------------------------------------------------


def test_attributes_and_immutability() -> None:
    source = {"monday": "09:00-17:00"}
    holidays = TimePeriod({})
    period = TimePeriod(
        source, excludes=[holidays], timezone="Europe/Berlin", name="work", prefer_includes=False
    )
    source["tuesday"] = "09:00-17:00"
    assert dict(period.ranges) == {"monday": "09:00-17:00"}
    assert (period.name, period.timezone, period.prefer_includes) == (
        "work",
        "Europe/Berlin",
        False,
    )
    assert period.includes == () and period.excludes == (holidays,)
    with pytest.raises(AttributeError):
        period.name = "other"
    with pytest.raises(AttributeError):
        del period.name
    with pytest.raises(TypeError):
        period.ranges["monday"] = "00:00-24:00"  # type: ignore[index]
    assert "work" in repr(period)


def test_defaults() -> None:
    period = TimePeriod({"monday": "09:00-10:00"})
    assert (period.timezone, period.name, period.prefer_includes) == ("UTC", None, True)
    assert period.contains(utc(2026, 1, 5, 9, 30))


# --- warnings ----------------------------------------------------------------------------


def test_warnings() -> None:
    period = TimePeriod(
        {
            "monday - friday": "09:00-17:00",
            "friday - monday / 2": "",
            "monday - monday": "",
            "november 15 - february 15": "",
            "day 25 - 5": "",
            "day 20 - -10": "",
            "february 29": "",
            "day 1 - 15": "",
            "monday": "",
        }
    )
    assert period.warnings() == [
        "key 'monday - friday': Icinga 2 matches only Mondays for weekday ranges; "
        "director-jobs matches Monday through Friday",
        "key 'friday - monday / 2': Icinga 2 matches only Fridays for weekday ranges; "
        "director-jobs matches every 2nd day from Friday through Monday",
        "key 'november 15 - february 15': Icinga 2 never matches a range whose end comes before "
        "its start; director-jobs continues it into the next year",
        "key 'day 25 - 5': Icinga 2 never matches a range whose end comes before its start; "
        "director-jobs continues it into the next month",
        "key 'day 20 - -10': Icinga 2 never matches a range whose end comes before its start "
        "(here in some months); director-jobs continues it into the next month",
        "key 'february 29': Icinga 2 reads february 29 as March 1 in non-leap years; "
        "director-jobs skips it then (and ends a range on February 28)",
    ]


def test_warnings_of_included_periods() -> None:
    weekdays = TimePeriod({"monday - friday": ""}, name="weekdays")
    period = TimePeriod({}, includes=[weekdays], excludes=[TimePeriod({"day 25 - 5": ""})])
    assert period.warnings() == [
        "included period 'weekdays': key 'monday - friday': Icinga 2 matches only Mondays for "
        "weekday ranges; director-jobs matches Monday through Friday",
        "excluded an unnamed period: key 'day 25 - 5': Icinga 2 never matches a range whose end "
        "comes before its start; director-jobs continues it into the next month",
    ]


def test_strides_in_a_zone_with_daylight_saving_are_warned_about() -> None:
    """Icinga 2 steps strides in 24 h: after the spring change its days shift by one."""
    key = "day 1 - 31 / 2"
    berlin = TimePeriod({key: "00:00-24:00"}, timezone="Europe/Berlin")
    assert berlin.warnings() == [
        f"key {key!r}: Icinga 2 counts stride days in 24-hour steps from the range start, so "
        "after a daylight-saving change in Europe/Berlin its days can shift by one; "
        "director-jobs counts calendar days"
    ]
    assert TimePeriod({key: "00:00-24:00"}, timezone="UTC").warnings() == []
    assert TimePeriod({"day 1 - 31": "00:00-24:00"}, timezone="Europe/Berlin").warnings() == []


def test_no_warnings_for_plain_keys() -> None:
    assert work_hours().warnings() == []
