"""Parsers for user-supplied scalars (names, durations, time zones); each error names the field."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from director_jobs.errors import InvalidInput
from director_jobs.secrets import MASK, is_secret_key

NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
# ASCII digits only: \d alone would take '١٥' or full-width '１５' as 15.
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?", re.IGNORECASE | re.ASCII)
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
    if value in (".", ".."):  # path segments in a URL or a file name, never names
        raise InvalidInput(field, value, "'.' and '..' are not names")
    return value


def parse_local_instant(text: str, timezone: str, field: str = "at") -> datetime:
    """ISO 8601 from a shell; a time without an offset is read in `timezone`."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            field,
            text,
            "expected an ISO 8601 time such as 2026-11-23T08:30 or 2026-11-23T08:30+01:00",
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=zone(timezone))


def parse_duration(value: str | int | float, field: str, *, allow_zero: bool = False) -> float:
    """Parse '90', '90s', '15m', '1h30m', '2d' or a number into seconds (> 0, or >= 0).

    >>> parse_duration("1h30m", "interval")
    5400.0
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
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


_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%", re.ASCII)


def parse_share(value: object, field: str) -> float:
    """A share of a whole, as a TOML file states it: "20%" -> 0.2; true -> 1.0 (all).

    Only percentages: a bare 0.5 could mean half or half a percent.
    """
    if value is True:
        return 1.0
    match = _PERCENT.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or float(match.group(1)) > 100:
        raise InvalidInput(field, value, 'expected a percentage such as "20%", or true for any')
    return float(match.group(1)) / 100


def share_text(share: float) -> str:
    """0.2 -> "20%" (for messages and export)."""
    return f"{share * 100:g}%"


def parse_non_negative_int(value: object, field: str) -> int:
    """Return `value` (a whole number, not its text) as an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, value, "expected a whole number >= 0")
    if value < 0:
        raise InvalidInput(field, value, "expected a whole number >= 0")
    return value


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


# Parameters and definitions nest tables and lists this deep at most: real ones need 3
# or 4; thousands would overflow Python's recursion while storing or printing them.
MAX_NESTING = 32


def refuse_too_deep(value: object, field: str, depth: int = 0) -> None:
    """Raise InvalidInput when lists and tables in `value` nest deeper than MAX_NESTING."""
    if depth > MAX_NESTING:
        raise InvalidInput(field, "…", f"nested deeper than {MAX_NESTING} levels")
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        for item in value:
            refuse_too_deep(item, field, depth + 1)


# What no backend stores in a text column: NUL (PostgreSQL refuses it) and lone
# surrogates (not encodable as UTF-8: they reach a str through JSON's "\ud800" escapes
# or through surrogateescape-decoded bytes). A Python str never holds a valid pair.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def has_unstorable(text: str) -> bool:
    """True when `text` holds a NUL or a lone surrogate."""
    return "\x00" in text or (not text.isascii() and _UNSTORABLE.search(text) is not None)


def storable(text: str) -> str:
    """`text` with NUL and lone surrogates replaced by U+FFFD, so that any backend stores it."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if has_unstorable(text) else text


def storable_data(value: Any) -> Any:
    """`value` (JSON-like) with every string, keys included, made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): storable_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_data(v) for v in value]
    return value


def refuse_unstorable(value: object, field: str) -> None:
    """Raise InvalidInput naming the place where `value` (JSON-like) holds unstorable text.

    Definitions are refused rather than cleaned: a NUL or a lone surrogate in a name,
    a parameter or a description is a mistake the user should see, not a silent change.
    """
    if isinstance(value, str):
        if has_unstorable(value):  # repr() shows them as \x00 and \ud800
            shown = MASK if is_secret_key(field.rsplit(".", 1)[-1]) else value  # never a secret
            raise InvalidInput(
                field, shown, "contains a NUL character or a lone surrogate (invalid Unicode)"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable(key, f"{field} (a key)")
            refuse_unstorable(item, f"{field}.{key}")
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            refuse_unstorable(item, f"{field}[{position}]")


def command_words(text: str, field: str) -> tuple[str, ...]:
    """A command line split as a shell would split it (no shell runs it); InvalidInput
    naming `field` for an unclosed quote."""
    import shlex  # here: only `jobs add/set` with --requires-command and the web form need it

    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise InvalidInput(field, text, str(exc)) from None
