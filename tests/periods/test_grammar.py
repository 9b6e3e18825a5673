"""Which local dates each ranges key form selects (2026-01-01 is a Thursday)."""

from __future__ import annotations

from datetime import date

import pytest

from director_jobs.periods.dates import nth_weekday
from director_jobs.periods.grammar import parse_key

from .helpers import days_matched


def iso(*days: str) -> list[date]:
    """Dates from ISO strings."""
    return [date.fromisoformat(day) for day in days]


# (key, first day searched, last day searched, every selected day)
CASES = [
    # weekdays: 2026-01-01 is a Thursday
    (
        "monday",
        "2026-01-01",
        "2026-01-31",
        iso("2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"),
    ),
    ("sunday", "2026-01-01", "2026-01-12", iso("2026-01-04", "2026-01-11")),
    # dates
    ("2026-02-28", "2026-01-01", "2026-12-31", iso("2026-02-28")),
    ("2024-02-29", "2024-01-01", "2024-12-31", iso("2024-02-29")),
    # day N / day -N
    ("day 1", "2026-01-01", "2026-03-31", iso("2026-01-01", "2026-02-01", "2026-03-01")),
    ("day 31", "2026-01-01", "2026-05-31", iso("2026-01-31", "2026-03-31", "2026-05-31")),
    (
        "day -1",
        "2026-01-01",
        "2026-04-30",
        iso("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"),
    ),
    ("day -1", "2024-02-01", "2024-03-01", iso("2024-02-29")),
    ("day -2", "2026-02-01", "2026-03-31", iso("2026-02-27", "2026-03-30")),
    ("day -2", "2024-02-01", "2024-02-29", iso("2024-02-28")),
    ("day -31", "2026-01-01", "2026-05-31", iso("2026-01-01", "2026-03-01", "2026-05-01")),
    ("day 29", "2026-02-01", "2026-03-01", []),
    ("day 29", "2024-02-01", "2024-03-01", iso("2024-02-29")),
    # <month> N / <month> -N
    ("december 25", "2026-01-01", "2027-12-31", iso("2026-12-25", "2027-12-25")),
    ("february 29", "2024-01-01", "2028-12-31", iso("2024-02-29", "2028-02-29")),
    ("february -1", "2024-01-01", "2026-12-31", iso("2024-02-29", "2025-02-28", "2026-02-28")),
    ("march -1", "2026-01-01", "2026-12-31", iso("2026-03-31")),
    ("  march   -1 ", "2026-01-01", "2026-12-31", iso("2026-03-31")),
    ("january 01", "2026-01-01", "2026-01-05", iso("2026-01-01")),
    # <weekday> N [<month>] and <weekday> -N [<month>]
    ("monday 1", "2026-01-01", "2026-03-31", iso("2026-01-05", "2026-02-02", "2026-03-02")),
    ("monday -1", "2026-01-01", "2026-03-31", iso("2026-01-26", "2026-02-23", "2026-03-30")),
    # June 1 2026 is a Monday: Icinga 2.13 took it as May's last Monday; it is May 25.
    ("monday -1", "2026-05-01", "2026-06-30", iso("2026-05-25", "2026-06-29")),
    ("sunday -1", "2026-05-01", "2026-05-31", iso("2026-05-31")),
    (
        "thursday 5",
        "2026-01-01",
        "2026-12-31",
        iso("2026-01-29", "2026-04-30", "2026-07-30", "2026-10-29", "2026-12-31"),
    ),
    ("thursday -5", "2026-01-01", "2026-02-28", iso("2026-01-01")),
    ("monday 2 may", "2026-01-01", "2027-12-31", iso("2026-05-11", "2027-05-10")),
    ("friday -1 december", "2026-01-01", "2026-12-31", iso("2026-12-25")),
    # ranges; a bare number after the dash repeats the first word
    (
        "day 1 - 3",
        "2026-01-01",
        "2026-02-28",
        iso("2026-01-01", "2026-01-02", "2026-01-03", "2026-02-01", "2026-02-02", "2026-02-03"),
    ),
    ("day -3 - -1", "2026-02-01", "2026-02-28", iso("2026-02-26", "2026-02-27", "2026-02-28")),
    ("day -3 - -1", "2024-02-01", "2024-02-29", iso("2024-02-27", "2024-02-28", "2024-02-29")),
    ("day 29 - -1", "2026-01-29", "2026-03-01", iso("2026-01-29", "2026-01-30", "2026-01-31")),
    ("day 29 - -1", "2024-02-01", "2024-03-01", iso("2024-02-29")),
    (
        "day 25 - 31",
        "2026-04-20",
        "2026-05-01",
        iso("2026-04-25", "2026-04-26", "2026-04-27", "2026-04-28", "2026-04-29", "2026-04-30"),
    ),
    (
        "january 30 - february 2",
        "2026-01-01",
        "2026-12-31",
        iso("2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"),
    ),
    ("january 1 - 3", "2026-01-01", "2026-12-31", iso("2026-01-01", "2026-01-02", "2026-01-03")),
    (
        "february 27 - march 1",
        "2024-02-20",
        "2024-03-05",
        iso("2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"),
    ),
    (
        "2026-01-30 - 2026-02-02",
        "2026-01-01",
        "2026-12-31",
        iso("2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"),
    ),
    ("2025-12-31 - 2026-01-01", "2025-12-01", "2026-01-31", iso("2025-12-31", "2026-01-01")),
    (
        "monday 1 - thursday 3",
        "2026-01-01",
        "2026-01-31",
        iso(*(f"2026-01-{n:02}" for n in range(5, 16))),
    ),
    ("monday 1 - 3", "2026-01-01", "2026-01-31", iso(*(f"2026-01-{n:02}" for n in range(5, 20)))),
    (
        "monday 1 may - friday 2 may",
        "2026-01-01",
        "2026-12-31",
        iso(*(f"2026-05-{n:02}" for n in range(4, 9))),
    ),
    (
        "day 1 - monday 1",
        "2026-01-01",
        "2026-02-28",
        iso(
            "2026-01-01",
            "2026-01-02",
            "2026-01-03",
            "2026-01-04",
            "2026-01-05",
            "2026-02-01",
            "2026-02-02",
        ),
    ),
    (
        "monday - friday",
        "2026-01-05",
        "2026-01-11",
        iso("2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"),
    ),
    ("saturday - sunday", "2026-01-05", "2026-01-11", iso("2026-01-10", "2026-01-11")),
    ("monday - monday", "2026-01-05", "2026-01-18", iso("2026-01-05", "2026-01-12")),
    # wrapping ranges continue into the next week, month or year
    (
        "friday - monday",
        "2026-01-05",
        "2026-01-12",
        iso("2026-01-05", "2026-01-09", "2026-01-10", "2026-01-11", "2026-01-12"),
    ),
    (
        "sunday - saturday",
        "2026-01-05",
        "2026-01-11",
        iso(*(f"2026-01-{n:02}" for n in range(5, 12))),
    ),
    (
        "day 30 - 2",
        "2026-01-01",
        "2026-03-31",
        iso(
            "2026-01-01",
            "2026-01-02",
            "2026-01-30",
            "2026-01-31",
            "2026-02-01",
            "2026-02-02",
            "2026-03-30",
            "2026-03-31",
        ),
    ),
    # February has no 30th: no range starts there, so March 1-2 are not selected
    ("day 30 - 2", "2026-02-03", "2026-03-10", iso()),
    (
        "december 31 - january 1",
        "2026-01-01",
        "2027-12-31",
        iso("2026-01-01", "2026-12-31", "2027-01-01", "2027-12-31"),
    ),
    # strides count days from each range's first day
    (
        "2026-01-01 - 2026-01-31 / 7",
        "2025-12-01",
        "2026-02-28",
        iso("2026-01-01", "2026-01-08", "2026-01-15", "2026-01-22", "2026-01-29"),
    ),
    (
        "day 1 - 31 / 2",
        "2026-01-25",
        "2026-02-05",
        iso(
            "2026-01-25",
            "2026-01-27",
            "2026-01-29",
            "2026-01-31",
            "2026-02-01",
            "2026-02-03",
            "2026-02-05",
        ),
    ),
    ("day 1 - 31/10", "2026-02-01", "2026-02-28", iso("2026-02-01", "2026-02-11", "2026-02-21")),
    (
        "monday - friday / 2",
        "2026-01-05",
        "2026-01-18",
        iso("2026-01-05", "2026-01-07", "2026-01-09", "2026-01-12", "2026-01-14", "2026-01-16"),
    ),
    ("november 30 - december 2 / 2", "2026-01-01", "2026-12-31", iso("2026-11-30", "2026-12-02")),
    ("december 30 - january 2 / 2", "2026-12-01", "2027-01-31", iso("2026-12-30", "2027-01-01")),
    ("day 1 - 3 / 1", "2026-01-01", "2026-01-05", iso("2026-01-01", "2026-01-02", "2026-01-03")),
]


@pytest.mark.parametrize(("key", "first", "last", "expected"), CASES, ids=[c[0] for c in CASES])
def test_key_selects_days(key: str, first: str, last: str, expected: list[date]) -> None:
    assert days_matched(key, date.fromisoformat(first), date.fromisoformat(last)) == expected


def test_november_to_february_wraps_into_next_year() -> None:
    matched = days_matched("november 15 - february 15", date(2026, 1, 1), date(2027, 12, 31))
    assert matched[0] == date(2026, 1, 1)
    assert date(2026, 2, 15) in matched
    assert date(2026, 2, 16) not in matched
    assert date(2026, 11, 14) not in matched
    assert date(2026, 11, 15) in matched
    assert date(2027, 2, 15) in matched
    # Jan 1-Feb 15 (46), Nov 15-Dec 31 (47), twice
    assert len(matched) == 2 * (46 + 47)


def test_day_25_to_5_wraps_into_next_month() -> None:
    matched = days_matched("day 25 - 5", date(2026, 1, 20), date(2026, 2, 10))
    assert matched == [date(2026, 1, n) for n in range(25, 32)] + [
        date(2026, 2, n) for n in range(1, 6)
    ]


@pytest.mark.parametrize(
    ("key", "canonical"),
    [
        ("monday", "monday"),
        ("monday\t 2   may", "monday 2 may"),
        ("day -1", "day -1"),
        ("2026-01-01", "2026-01-01"),
    ],
)
def test_whitespace_is_insignificant(key: str, canonical: str) -> None:
    rule = parse_key(key)
    assert rule == parse_key(canonical)


@pytest.mark.parametrize(
    ("year", "month", "weekday", "n", "expected"),
    [
        (2026, 5, 0, -1, date(2026, 5, 25)),
        (2026, 5, 0, 5, None),
        (2026, 5, 4, 5, date(2026, 5, 29)),
        (2026, 6, 0, 1, date(2026, 6, 1)),
        (2026, 6, 0, -5, date(2026, 6, 1)),
        (2026, 2, 6, -4, date(2026, 2, 1)),
        (2026, 2, 6, -5, None),
    ],
)
def test_nth_weekday(year: int, month: int, weekday: int, n: int, expected: date | None) -> None:
    assert nth_weekday(year, month, weekday, n) == expected
