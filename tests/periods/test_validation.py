"""Every invalid ranges key, value, time zone and reference is rejected with a precise message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from director_jobs.errors import DirectorJobsError, InvalidInput
from director_jobs.periods import InvalidTimeRange, TimePeriod, validate_ranges

# (key, offending text, its position in the key, words the message must contain)
BAD_KEYS = [
    ("", "", 0, "expected a weekday"),
    ("   ", "   ", 0, "expected a weekday"),
    ("fooday", "fooday", 0, "expected a weekday"),
    ("Monday", "Monday", 0, "lowercase 'monday'"),
    ("JANUARY 1", "JANUARY", 0, "lowercase 'january'"),
    ("monday 0", "0", 7, "expected a day number 1-5 or -1..-5"),
    ("monday 6", "6", 7, "1-5 or -1..-5"),
    ("monday -6 may", "-6", 7, "1-5 or -1..-5"),
    ("monday 2 foo", "foo", 9, "expected a month"),
    ("monday 2 may june", "june", 13, "expected ' - ', '/ N' or the end"),
    ("day 0", "0", 4, "expected a day number 1-31 or -1..-31"),
    ("day 32", "32", 4, "1-31"),
    ("day -32", "-32", 4, "1-31"),
    ("day", "", 3, "expected a day number"),
    ("day monday", "monday", 4, "expected a day number"),
    ("february 30", "30", 9, "1-29 or -1..-29"),
    ("february -30", "-30", 9, "february never has more than 29 days"),
    ("april 31", "31", 6, "april never has more than 30 days"),
    ("january 0", "0", 8, "1-31"),
    ("january", "", 7, "expected a day number"),
    ("2026-02-30", "2026-02-30", 0, "valid calendar date"),
    ("2026-13-01", "2026-13-01", 0, "valid calendar date"),
    ("0000-01-01", "0000-01-01", 0, "valid calendar date"),
    ("2026-1-1", "2026-1-1", 0, "expected a date YYYY-MM-DD"),
    ("day 1-15", "1-15", 4, "' - ' with a space after it"),
    ("day 1 -15", "-15", 6, "expected ' - ', '/ N' or the end"),
    ("day-1", "-1", 3, "expected a space before it"),
    ("monday1", "1", 6, "expected a space before it"),
    ("monday -friday", "-friday", 7, "' - ' with a space after it"),
    ("monday -", "", 8, "expected the end of the range"),
    ("monday - ", "", 9, "expected the end of the range"),
    ("day 1 - 15 - 20", "-", 11, "expected '/ N' or the end of the key"),
    ("day 1 - monday", "monday", 8, "same kind as 'day 1'"),
    ("monday - day 5", "day", 9, "same kind as 'monday'"),
    ("2026-01-01 - day 5", "day", 13, "same kind as '2026-01-01'"),
    ("january 1 - day 5", "day", 12, "same kind as 'january 1'"),
    ("monday 1 may - 3", "3", 15, "a bare number only repeats the first word: 'monday 3'"),
    ("monday - 3", "3", 9, "same kind as 'monday'"),
    ("2026-01-01 - 15", "15", 13, "a bare number only repeats a word"),
    ("2026-02-01 - 2026-01-31", "2026-01-31", 13, "on or after 2026-02-01"),
    ("monday / 2", "/", 7, "expected a range 'A - B' before a stride"),
    ("2026-01-01 / 7", "/", 11, "expected a range 'A - B' before a stride"),
    ("day 1 - 31 / 0", "0", 13, "expected a stride"),
    ("day 1 - 31 / -2", "-2", 13, "expected a stride"),
    ("day 1 - 31 /", "", 12, "expected a stride"),
    ("day 1 - 31 / two", "two", 13, "expected a stride"),
    ("day 1 - 31 / 2 / 3", "/", 15, "expected '/ N' or the end"),
    ("day 1, day 2", ",", 5, "expected a word, a number"),
    ("day 1; monday", ";", 5, "expected a word, a number"),
    ("- monday", "-", 0, "expected a weekday"),
    ("März 1", "März", 0, "expected a weekday"),
    ("day \u0663", "\u0663", 4, "expected a word, a number"),  # ARABIC-INDIC DIGIT THREE
    ("2026-01-01-2026-02-01", "2026-01-01-2026-02-01", 0, "' - ' with a space after it"),
]


@pytest.mark.parametrize(("key", "value", "position", "words"), BAD_KEYS, ids=repr)
def test_bad_key(key: str, value: str, position: int, words: str) -> None:
    with pytest.raises(InvalidTimeRange) as caught:
        validate_ranges({key: "09:00-17:00"})
    error = caught.value
    message = str(error)
    assert message.startswith(f"ranges key {key!r}: invalid value {value!r} at position {position}")
    assert words in message
    assert "\n" not in message
    assert (error.field, error.key, error.value, error.position) == ("ranges", key, value, position)


# (value, offending text, its position in the value, words the message must contain)
BAD_VALUES = [
    ("25:00-26:00", "25:00", 0, "expected an hour 0-23"),
    ("09:00-25:00", "25:00", 6, "expected an hour 0-23"),
    ("24:00-24:00", "24:00", 0, "24:00 only as the end"),
    ("24:30", "24:30", 0, "expected a time range"),
    ("09:00-24:01", "24:01", 6, "expected an hour 0-23"),
    ("09:60-10:00", "09:60", 0, "expected minutes 00-59"),
    ("09:00:60-10:00", "09:00:60", 0, "expected seconds 00-59"),
    ("9-17", "9-17", 0, "expected a time range H:MM-H:MM"),
    ("09:00", "09:00", 0, "expected a time range"),
    ("09:00 17:00", "09:00 17:00", 0, "expected a time range"),
    ("09:00-17:00-18:00", "09:00-17:00-18:00", 0, "expected a time range"),
    ("0900-1700", "0900-1700", 0, "expected a time range"),
    ("9h-17h", "9h-17h", 0, "expected a time range"),
    ("09:00-12:00,", "", 12, "expected a time range"),
    ("09:00-12:00,,13:00-14:00", "", 12, "expected a time range"),
    ("09:00-12:00, 13:00-14:61", "14:61", 19, "expected minutes 00-59"),
    ("-09:00-10:00", "-09:00-10:00", 0, "expected a time range"),
    ("009:00-10:00", "009:00-10:00", 0, "expected a time range"),
    ("\u0660\u0669:00-10:00", "\u0660\u0669:00-10:00", 0, "expected a time range"),
]


@pytest.mark.parametrize(("text", "value", "position", "words"), BAD_VALUES, ids=repr)
def test_bad_value(text: str, value: str, position: int, words: str) -> None:
    with pytest.raises(InvalidTimeRange) as caught:
        validate_ranges({"monday": text})
    error = caught.value
    message = str(error)
    expected_start = (
        f"ranges key 'monday' with time ranges {text!r}: "
        f"invalid value {value!r} at position {position}"
    )
    assert message.startswith(expected_start)
    assert words in message
    assert (error.key, error.value, error.position) == ("monday", value, position)


@pytest.mark.parametrize(
    "ranges",
    [
        {"monday": None},
        {"monday": 900},
        {1: "09:00-10:00"},
        ["monday"],
    ],
    ids=repr,
)
def test_wrong_types_are_invalid(ranges: Any) -> None:
    with pytest.raises(InvalidTimeRange, match="expected a"):
        validate_ranges(ranges)


@pytest.mark.parametrize("zone", ["Mars/Base", "", "europe/berlin", "../etc/passwd", "localtime"])
def test_unknown_time_zone(zone: str) -> None:
    with pytest.raises(InvalidTimeRange) as caught:
        TimePeriod({}, timezone=zone)
    assert caught.value.field == "timezone"
    assert str(caught.value).startswith(f"timezone: invalid value {zone!r}: expected an IANA")


def test_error_is_a_value_error_and_a_director_jobs_error() -> None:
    with pytest.raises(InvalidTimeRange) as caught:
        validate_ranges({"monday 0": ""})
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, DirectorJobsError)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.expected == "expected a day number 1-5 or -1..-5"


def test_brief_example_message() -> None:
    with pytest.raises(InvalidTimeRange) as caught:
        validate_ranges({"monday 0": "09:00-17:00"})
    assert str(caught.value) == (
        "ranges key 'monday 0': invalid value '0' at position 7: "
        "expected a day number 1-5 or -1..-5"
    )


def test_named_period_error_names_the_period() -> None:
    with pytest.raises(InvalidTimeRange) as caught:
        TimePeriod({"day 32": ""}, name="work")
    assert str(caught.value).startswith("time period 'work': ranges key 'day 32': invalid value")
    assert caught.value.key == "day 32"


def test_first_bad_key_wins_and_nothing_is_built() -> None:
    ranges: Mapping[str, str] = {"monday": "09:00-17:00", "tuesday 0": "", "day 99": ""}
    with pytest.raises(InvalidTimeRange, match="'tuesday 0'"):
        TimePeriod(ranges)


@pytest.mark.parametrize(
    "ranges",
    [
        {"monday": ""},
        {"monday": "   "},
        {" monday ": "9:5-10:00"},
        {"monday": " 09:00 - 12:00 , 13:00-17:00 "},
        {"monday": "00:00-24:00,22:00-02:00,12:00:30-12:00:45"},
        {"day 1 - 31 / 1": "00:00-00:00"},
        {"monday 0 ".replace("0", "5"): "01:02:03-04:05:06"},
    ],
    ids=repr,
)
def test_valid_ranges(ranges: Mapping[str, str]) -> None:
    validate_ranges(ranges)


def test_includes_must_be_periods() -> None:
    with pytest.raises(TypeError, match="includes must hold TimePeriod"):
        TimePeriod({}, includes=["holidays"])  # type: ignore[list-item]
