"""Parsers for user-supplied scalars (names, durations, time zones); each error names the field."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from director_jobs.errors import InvalidInput

NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?", re.IGNORECASE)
# Longest duration accepted anywhere (10 years): far beyond any sensible interval or
# timeout, and small enough that adding it to a date never overflows.
MAX_DURATION_SECONDS = 10 * 366 * 86400
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def validate_name(value: str, field: str = "name") -> str:
    """Return `value` when it is 1-64 letters, digits, '.', '_' or '-'."""
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise InvalidInput(
            field, value, "expected 1-64 characters of letters, digits, '.', '_', '-'"
        )
    return value


def parse_duration(value: str | int | float, field: str, *, allow_zero: bool = False) -> float:
    """Parse '90', '90s', '15m', '1h30m', '2d' or a number into seconds (> 0, or >= 0).

    >>> parse_duration("1h30m", "interval")
    5400.0
    """
    if isinstance(value, bool):
        raise InvalidInput(field, value, "expected a duration such as 90, 90s, 15m, 2h or 1d")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip()
        seconds, position = 0.0, 0
        for match in _DURATION_PART.finditer(text):
            if match.start() != position or match.end() == match.start():
                break
            unit = match.group(2).lower() if match.group(2) else None
            seconds += float(match.group(1)) * _UNIT_SECONDS[unit]
            position = match.end()
            while position < len(text) and text[position] == " ":
                position += 1
        if not text or position != len(text):
            raise InvalidInput(field, value, "expected a duration such as 90, 90s, 15m, 2h or 1d")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        minimum = "zero or more" if allow_zero else "greater than zero"
        raise InvalidInput(field, value, f"expected a duration {minimum}")
    if seconds > MAX_DURATION_SECONDS or seconds != seconds:  # NaN compares unequal to itself
        raise InvalidInput(field, value, "expected a duration of at most 10 years")
    return seconds


def parse_non_negative_int(value: object, field: str) -> int:
    """Return `value` as an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(field, value, "expected a whole number >= 0")
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(field, value, "expected a whole number >= 0") from None
    if number < 0:
        raise InvalidInput(field, value, "expected a whole number >= 0")
    return number


@lru_cache(maxsize=256)
def zone(name: str, field: str = "timezone") -> ZoneInfo:
    """Return the IANA zone `name`, or raise naming the field."""
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            field, name, "expected an IANA time zone such as Europe/Berlin"
        ) from None
