"""Parsing of ranges values into wall-clock ranges."""

from __future__ import annotations

import pytest

from director_jobs.periods.timeofday import TimeRange, parse_time_ranges

H = 3600


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("  ", []),
        ("09:00-17:00", [(9 * H, 17 * H, 0, 17 * H)]),
        ("9:5-9:7", [(9 * H + 300, 9 * H + 420, 0, 9 * H + 420)]),
        ("09:00:30-10:00:15", [(9 * H + 30, 10 * H + 15, 0, 10 * H + 15)]),
        ("18:00-24:00", [(18 * H, 24 * H, 1, 0)]),
        ("00:00-24:00", [(0, 24 * H, 1, 0)]),
        ("24:00:00", None),
        ("22:00-06:00", [(22 * H, 6 * H, 1, 6 * H)]),
        ("09:00-09:00", [(9 * H, 9 * H, 1, 9 * H)]),
        ("00:00-00:00", [(0, 0, 1, 0)]),
        (
            " 08:00 - 12:00 ,13:00-17:00",
            [(8 * H, 12 * H, 0, 12 * H), (13 * H, 17 * H, 0, 17 * H)],
        ),
    ],
)
def test_parse(text: str, expected: list[tuple[int, int, int, int]] | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="expected a time range"):
            parse_time_ranges("monday", text)
        return
    ranges = parse_time_ranges("monday", text)
    assert [(r.begin, r.end, r.end_day, r.end_of_day) for r in ranges] == expected


def test_time_range_is_frozen() -> None:
    time_range = TimeRange(0, 60)
    with pytest.raises(AttributeError):
        time_range.begin = 5  # type: ignore[misc]
