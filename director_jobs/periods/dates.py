"""Calendar arithmetic on local dates: month lengths, n-th weekdays and repeating cycles."""

from __future__ import annotations

import calendar
import enum
from datetime import date

__all__ = [
    "MONTHS",
    "WEEKDAYS",
    "Cycle",
    "max_month_length",
    "month_length",
    "nth_weekday",
]

# Icinga 2 spells these in lowercase English only.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

# Longest length of each month over all years (February has 29 in leap years).
_MAX_MONTH_LENGTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def month_length(year: int, month: int) -> int:
    """Days in ``month`` (1-12) of ``year``."""
    return calendar.monthrange(year, month)[1]


def max_month_length(month: int) -> int:
    """The most days ``month`` (1-12) ever has: 29 for February."""
    return _MAX_MONTH_LENGTH[month - 1]


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date | None:
    """The ``n``-th ``weekday`` (0 = Monday) of the month, counted from its end when n < 0.

    None when the month has no such day. Example: in May 2026 (May 1 is a Friday, 31 days)
    ``n=-1, weekday=0`` is the last Monday: the last day, May 31, is a Sunday (6), so step back
    (6 - 0) % 7 = 6 days to May 25; ``n=5`` for Monday gives 4 + 28 = 32 > 31, so None.
    """
    length = month_length(year, month)
    if n > 0:
        first = date(year, month, 1).weekday()
        day = 1 + (weekday - first) % 7 + 7 * (n - 1)
    else:
        last = date(year, month, length).weekday()
        day = length - (last - weekday) % 7 - 7 * (-n - 1)
    if 1 <= day <= length:
        return date(year, month, day)
    return None


class Cycle(enum.Enum):
    """How a day definition repeats; each repetition is numbered by an integer index."""

    ABSOLUTE = "absolute"  # a calendar date: happens once, index 0
    WEEKLY = "weekly"  # index = weeks since Monday 0001-01-01
    MONTHLY = "monthly"  # index = year * 12 + month - 1
    YEARLY = "yearly"  # index = year

    def index(self, day: date) -> int:
        """The number of the repetition that contains ``day``."""
        if self is Cycle.WEEKLY:
            # date.toordinal() is 1 for Monday 0001-01-01, so weeks run Monday to Sunday.
            return (day.toordinal() - 1) // 7
        if self is Cycle.MONTHLY:
            return day.year * 12 + day.month - 1
        if self is Cycle.YEARLY:
            return day.year
        return 0

    def sample(self) -> range:
        """Indexes that show every shape a repetition can take, for static checks.

        28 years (2000-2027) repeat every combination of leap year and weekday of January 1;
        one week is enough for weekly cycles and one index for absolute dates.
        """
        if self is Cycle.MONTHLY:
            return range(2000 * 12, 2028 * 12)
        if self is Cycle.YEARLY:
            return range(2000, 2028)
        if self is Cycle.WEEKLY:
            return range(104_000, 104_001)
        return range(1)

    @property
    def noun(self) -> str:
        """The unit a range of this cycle wraps into: ``week``, ``month`` or ``year``."""
        return {"weekly": "week", "monthly": "month", "yearly": "year"}.get(self.value, "day")
