"""Schedules: Director intervals, crontab in a time zone (DST, weekday numbering, OR rule)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from director_jobs.errors import InvalidInput
from director_jobs.schedule import (
    MAX_COUNTED_SLOTS,
    IntervalSchedule,
    cron_schedule,
    first_due,
    missed_slots,
)
from director_jobs.validation import parse_duration, validate_name, zone


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(expression: str, tz: str, after: datetime, count: int) -> list[str]:
    schedule = cron_schedule(expression, tz)
    out, t = [], after
    for _ in range(count):
        nxt = schedule.next_after(t)
        assert nxt is not None
        out.append(nxt.astimezone(zone(tz)).isoformat())
        t = nxt
    return out


def test_interval_counts_from_the_start_of_the_last_attempt() -> None:
    assert IntervalSchedule(900).next_after(utc(2026, 1, 1, 10, 0)) == utc(2026, 1, 1, 10, 15)
    assert first_due(IntervalSchedule(900), utc(2026, 1, 1)) == utc(2026, 1, 1)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # crontab weekday numbers: 0 and 7 are Sunday (APScheduler 3 would read 0 as Monday)
        ("0 9 * * 0", ["2026-11-29T09:00:00+00:00", "2026-12-06T09:00:00+00:00"]),
        ("0 9 * * 7", ["2026-11-29T09:00:00+00:00", "2026-12-06T09:00:00+00:00"]),
        ("0 9 * * 1-5", ["2026-11-24T09:00:00+00:00", "2026-11-25T09:00:00+00:00"]),
        ("0 9 * * sat,sun", ["2026-11-28T09:00:00+00:00", "2026-11-29T09:00:00+00:00"]),
        (
            "0 9 * * */3",
            ["2026-11-25T09:00:00+00:00", "2026-11-28T09:00:00+00:00"],
        ),  # sun, wed, sat
        ("@hourly", ["2026-11-23T13:00:00+00:00", "2026-11-23T14:00:00+00:00"]),
        ("@daily", ["2026-11-24T00:00:00+00:00", "2026-11-25T00:00:00+00:00"]),
        ("@weekly", ["2026-11-29T00:00:00+00:00", "2026-12-06T00:00:00+00:00"]),
        ("@monthly", ["2026-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"]),
        ("@yearly", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"]),
        # Vixie's rule: restricted day-of-month OR restricted weekday
        (
            "0 0 13 * 5",
            [
                "2026-11-27T00:00:00+00:00",
                "2026-12-04T00:00:00+00:00",
                "2026-12-11T00:00:00+00:00",
                "2026-12-13T00:00:00+00:00",
            ],
        ),
        # '*/2' counts as unrestricted: then both must match (AND)
        ("0 0 */2 * 5", ["2026-11-27T00:00:00+00:00", "2026-12-11T00:00:00+00:00"]),
    ],
)
def test_crontab_semantics(expression: str, expected: list[str]) -> None:
    assert fires(expression, "UTC", utc(2026, 11, 23, 12, 30), len(expected)) == expected


def test_cron_in_a_zone_and_across_spring_forward() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: read with the old offset, i.e. 03:30 CEST.
    assert fires("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), 2) == [
        "2026-03-29T03:30:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


def test_fixed_hour_runs_once_in_the_repeated_autumn_hour_wildcard_hour_twice() -> None:
    assert fires("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12), 2) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]
    assert fires("30 * * * *", "Europe/Berlin", utc(2026, 10, 24, 23, 45), 3) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:30:00+01:00",
    ]


def test_new_york_fall_back() -> None:
    assert fires("0 1 * * *", "America/New_York", utc(2026, 10, 31, 12), 2) == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-02T01:00:00-05:00",
    ]


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("* * * *", "expected 5 fields"),
        ("61 * * * *", "61"),
        ("* 24 * * *", "24"),
        ("* * 32 * *", "32"),
        ("* * * 13 *", "13"),
        ("* * * * 8", "unknown weekday '8'"),
        ("* * * * funday", "unknown weekday 'funday'"),
        ("* * * * mon#2", "cannot read weekday"),
        ("* * * * 5-1", "runs backwards"),
        ("@sometimes", "expected 5 fields"),
    ],
)
def test_invalid_cron_names_the_field_and_text(expression: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as error:
        cron_schedule(expression, "UTC")
    assert str(error.value).startswith(f"cron: invalid value {expression!r}")
    assert fragment in str(error.value)


def test_missed_slots_interval_and_cron() -> None:
    hourly = IntervalSchedule(3600)
    missed = missed_slots(hourly, utc(2026, 1, 1, 10), utc(2026, 1, 1, 13, 30))
    assert missed is not None and (missed.count, missed.first, missed.last) == (
        3,
        utc(2026, 1, 1, 11),
        utc(2026, 1, 1, 13),
    )
    assert missed_slots(hourly, utc(2026, 1, 1, 10), utc(2026, 1, 1, 10, 59)) is None
    cron = cron_schedule("*/15 * * * *", "UTC")
    missed = missed_slots(cron, utc(2026, 1, 1, 10), utc(2026, 1, 1, 11, 1))
    assert missed is not None and missed.count == 4 and missed.last == utc(2026, 1, 1, 11)


def test_counting_missed_slots_is_bounded() -> None:
    minutely = cron_schedule("* * * * *", "UTC")
    missed = missed_slots(minutely, utc(2026, 1, 1), utc(2026, 3, 1))  # ~85,000 slots
    assert missed is not None and missed.count == MAX_COUNTED_SLOTS and missed.more


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("15m", 900),
        ("1h30m", 5400),
        ("2d", 172800),
        ("1w", 604800),
        ("1.5h", 5400),
        (45, 45),
    ],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text, "interval") == seconds


@pytest.mark.parametrize("text", ["", "abc", "15x", "-5", "0", "1h-", "m", True])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_duration(text, "interval")
    assert str(error.value).startswith("interval: invalid value")


@pytest.mark.parametrize("name", ["a", "import-cmdb", "sync_hosts.v2", "x" * 64])
def test_good_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "has space", "a/b", "ümlaut", "semi;colon"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_name(name)
    assert str(error.value).startswith(f"name: invalid value {name!r}")


@pytest.mark.parametrize("name", ["Mars/Base", "", "../etc/passwd", "/etc/localtime"])
def test_bad_zones(name: str) -> None:
    with pytest.raises(InvalidInput):
        zone(name)
