"""Parse a ranges value: comma-separated wall-clock ranges ``H:MM[:SS]-H:MM[:SS]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from director_jobs.periods.errors import InvalidTimeRange

__all__ = ["DAY_SECONDS", "TimeRange", "parse_time_ranges"]

DAY_SECONDS = 24 * 60 * 60

_EXPECTED_RANGE = "expected a time range H:MM-H:MM or H:MM:SS-H:MM:SS, like 09:00-17:00"
# Hours and minutes of one or two digits ("9:5" is 09:05, as Icinga 2 reads it).
_TIME = r"([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?"
_RANGE = re.compile(rf"(?P<begin>{_TIME})\s*-\s*(?P<end>{_TIME})")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """One wall-clock range of a day, in seconds after local midnight.

    ``end`` is at most 86400 (24:00). When ``end <= begin`` the range runs overnight and ends on
    the next day: ``22:00-06:00`` is begin 79200, end 21600, 8 hours long on ordinary days.
    """

    begin: int
    end: int

    @property
    def end_day(self) -> int:
        """Days after the listed day on which the range ends: 0, or 1 for overnight and 24:00."""
        return 1 if self.end <= self.begin or self.end == DAY_SECONDS else 0

    @property
    def end_of_day(self) -> int:
        """Seconds after midnight of the end day: 24:00 is 00:00 of the next day."""
        return self.end % DAY_SECONDS


def _seconds(
    key: str, text: str, clock: str, position: int, parts: tuple[str | None, ...], end: bool
) -> int:
    """Seconds after midnight of one ``H:MM[:SS]``; 24:00 only as an end."""
    hours, minutes, seconds = (int(part) if part is not None else 0 for part in parts)
    if minutes > 59:
        raise InvalidTimeRange.in_value(key, text, clock, position, "expected minutes 00-59")
    if seconds > 59:
        raise InvalidTimeRange.in_value(key, text, clock, position, "expected seconds 00-59")
    if hours == 24 and minutes == seconds == 0 and end:
        return DAY_SECONDS
    if hours > 23:
        expected = "expected an hour 0-23 (24:00 only as the end of a range)"
        raise InvalidTimeRange.in_value(key, text, clock, position, expected)
    return hours * 3600 + minutes * 60 + seconds


def parse_time_ranges(key: str, text: str) -> tuple[TimeRange, ...]:
    """Parse the value of ranges ``key``; empty or blank text means no time on those days.

    Spaces around items and around their dash are ignored (Icinga 2 rejects them).
    """
    if not text.strip():
        return ()
    found: list[TimeRange] = []
    position = 0
    for item in text.split(","):
        stripped = item.strip()
        start = position + len(item) - len(item.lstrip())
        position += len(item) + 1  # the comma
        match = _RANGE.fullmatch(stripped)
        if match is None:
            raise InvalidTimeRange.in_value(key, text, stripped, start, _EXPECTED_RANGE)
        begin = _seconds(key, text, match["begin"], start, match.group(2, 3, 4), end=False)
        end = _seconds(
            key, text, match["end"], start + match.start("end"), match.group(6, 7, 8), end=True
        )
        found.append(TimeRange(begin, end))
    return tuple(found)
