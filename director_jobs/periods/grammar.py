"""Parse a ranges key: one small class per day-definition form, tried in order, then ranges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from director_jobs.periods.dates import (
    MONTHS,
    WEEKDAYS,
    Cycle,
    max_month_length,
    month_length,
    nth_weekday,
)
from director_jobs.periods.dayrules import DayRange, DayRule, DaySpec, SingleDay
from director_jobs.periods.errors import InvalidTimeRange
from director_jobs.periods.lexer import Kind, Token, tokenize

__all__ = ["FORMS", "parse_key"]

_START = "expected a weekday, 'day', a month or a date YYYY-MM-DD"
_KINDS_OF_CYCLE = {
    Cycle.ABSOLUTE: "a date YYYY-MM-DD",
    Cycle.WEEKLY: "a weekday like 'friday'",
    Cycle.MONTHLY: "a day of every month like 'day 15' or 'friday 2'",
    Cycle.YEARLY: "a day of a named month like 'march 15' or 'friday 2 march'",
}


def _year_month(index: int) -> tuple[int, int]:
    """Year and month (1-12) of a monthly repetition index."""
    return divmod(index, 12)[0], index % 12 + 1


# --- day definitions ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DateSpec:
    """``2026-12-24``: one calendar date."""

    day: date

    @property
    def cycle(self) -> Cycle:
        """A date happens once."""
        return Cycle.ABSOLUTE

    @property
    def text(self) -> str:
        """ISO spelling."""
        return self.day.isoformat()

    @property
    def mentions_february_29(self) -> bool:
        """A date is always a real day."""
        return False

    def start(self, index: int) -> date | None:
        """The date itself."""
        return self.day

    def end(self, index: int) -> date:
        """The date itself."""
        return self.day

    def matches(self, day: date) -> bool:
        """Whether ``day`` is the date."""
        return day == self.day


@dataclass(frozen=True, slots=True)
class MonthDaySpec:
    """``day N`` (every month) or ``<month> N`` (every year); N < 0 counts from the month's end.

    Example: ``day -2`` is February 27 in 2026 (28 days: 28 + 1 - 2) and February 28 in 2024.
    """

    month: int | None  # 1-12, or None for "day N"
    number: int  # 1..31 or -31..-1

    @property
    def cycle(self) -> Cycle:
        """Monthly for ``day N``, yearly for ``<month> N``."""
        return Cycle.MONTHLY if self.month is None else Cycle.YEARLY

    @property
    def text(self) -> str:
        """``day -1`` or ``march 15``."""
        word = "day" if self.month is None else MONTHS[self.month - 1]
        return f"{word} {self.number}"

    @property
    def mentions_february_29(self) -> bool:
        """Only ``february 29`` exists in leap years alone."""
        return self.month == 2 and self.number == 29

    def _year_month(self, index: int) -> tuple[int, int]:
        if self.month is None:
            return _year_month(index)
        return index, self.month

    def start(self, index: int) -> date | None:
        """The N-th (or N-th last) day of that month, or None when the month is too short."""
        year, month = self._year_month(index)
        length = month_length(year, month)
        day = self.number if self.number > 0 else length + 1 + self.number
        return date(year, month, day) if 1 <= day <= length else None

    def end(self, index: int) -> date:
        """Like ``start``, clamped into the month: ``day 31`` ends a range on April 30."""
        year, month = self._year_month(index)
        length = month_length(year, month)
        day = self.number if self.number > 0 else length + 1 + self.number
        return date(year, month, min(max(day, 1), length))

    def matches(self, day: date) -> bool:
        """Whether ``day`` is that day of its month."""
        if self.month is not None and day.month != self.month:
            return False
        if self.number > 0:
            return day.day == self.number
        return day.day == month_length(day.year, day.month) + 1 + self.number


@dataclass(frozen=True, slots=True)
class NthWeekdaySpec:
    """``<weekday> N [<month>]``: the N-th (N < 0: N-th last) weekday of every month, or of one.

    Example: ``monday -1 may`` in 2026 is May 25 (May 31 is a Sunday, six days later).
    """

    weekday: int  # 0 = Monday
    number: int  # 1..5 or -5..-1
    month: int | None  # 1-12, or None for every month

    @property
    def cycle(self) -> Cycle:
        """Monthly without a month name, yearly with one."""
        return Cycle.MONTHLY if self.month is None else Cycle.YEARLY

    @property
    def text(self) -> str:
        """``monday -1`` or ``monday 2 may``."""
        month = "" if self.month is None else f" {MONTHS[self.month - 1]}"
        return f"{WEEKDAYS[self.weekday]} {self.number}{month}"

    @property
    def mentions_february_29(self) -> bool:
        """Never names a month day."""
        return False

    def _year_month(self, index: int) -> tuple[int, int]:
        if self.month is None:
            return _year_month(index)
        return index, self.month

    def start(self, index: int) -> date | None:
        """That weekday of the month; None for a 5th one the month does not have."""
        year, month = self._year_month(index)
        return nth_weekday(year, month, self.weekday, self.number)

    def end(self, index: int) -> date:
        """Like ``start``; a missing 5th weekday clamps to the month's last (or first) day."""
        found = self.start(index)
        if found is not None:
            return found
        year, month = self._year_month(index)
        return date(year, month, month_length(year, month) if self.number > 0 else 1)

    def matches(self, day: date) -> bool:
        """Whether ``day`` is that weekday of its month."""
        if day.weekday() != self.weekday:
            return False
        if self.month is not None and day.month != self.month:
            return False
        return nth_weekday(day.year, day.month, self.weekday, self.number) == day


@dataclass(frozen=True, slots=True)
class WeekdaySpec:
    """``monday``: every such weekday."""

    weekday: int  # 0 = Monday

    @property
    def cycle(self) -> Cycle:
        """Repeats every week."""
        return Cycle.WEEKLY

    @property
    def text(self) -> str:
        """The weekday's name."""
        return WEEKDAYS[self.weekday]

    @property
    def mentions_february_29(self) -> bool:
        """Never names a month day."""
        return False

    def start(self, index: int) -> date | None:
        """That weekday in week ``index`` (weeks run Monday to Sunday)."""
        return date.fromordinal(1 + 7 * index + self.weekday)

    def end(self, index: int) -> date:
        """Same as ``start``: every week has every weekday."""
        return date.fromordinal(1 + 7 * index + self.weekday)

    def matches(self, day: date) -> bool:
        """Whether ``day`` falls on that weekday."""
        return day.weekday() == self.weekday


# --- the forms: each recognises its own pattern ------------------------------------------


class _Cursor:
    """Tokens of one key being parsed, with the key for error messages."""

    def __init__(self, key: str, tokens: Sequence[Token]) -> None:
        self.key = key
        self.tokens = tokens
        self.index = 0

    def peek(self, ahead: int = 0) -> Token | None:
        """The token ``ahead`` places after the current one, or None past the end."""
        at = self.index + ahead
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self) -> Token:
        """The current token, moving past it; the caller has peeked that it exists."""
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token: Token | None, expected: str) -> InvalidTimeRange:
        """An error at ``token``, or at the end of the key when it is None."""
        if token is None:
            return InvalidTimeRange.in_key(self.key, "", len(self.key), expected)
        return InvalidTimeRange.in_key(self.key, token.text, token.position, expected)

    def number(self, low: int, high: int, expected: str) -> int:
        """Take a number in ``low..high`` or ``-high..-low``."""
        token = self.peek()
        if token is None or token.kind is not Kind.NUMBER:
            raise self.fail(token, expected)
        value = int(self.take().text)
        if not low <= abs(value) <= high or value == 0:
            raise self.fail(token, expected)
        return value


def _word(token: Token | None, words: Sequence[str]) -> int | None:
    """Index of ``token`` in ``words`` when it is one of them."""
    if token is None or token.kind is not Kind.WORD or token.text not in words:
        return None
    return words.index(token.text)


class _Form(Protocol):
    """One day-definition form: returns None when the tokens are not in its shape."""

    def parse(self, cursor: _Cursor) -> DaySpec | None:
        """Parse at the cursor, or return None without moving it."""
        ...


class DateForm:
    """``YYYY-MM-DD``."""

    def parse(self, cursor: _Cursor) -> DaySpec | None:
        """A real calendar date, years 0001-9999."""
        token = cursor.peek()
        if token is None or token.kind is not Kind.DATE:
            return None
        year, month, day = (int(part) for part in token.text.split("-"))
        try:
            parsed = date(year, month, day)
        except ValueError:
            raise cursor.fail(token, "expected a valid calendar date YYYY-MM-DD") from None
        cursor.take()
        return DateSpec(parsed)


class MonthDayForm:
    """``day N`` / ``day -N`` and ``<month> N`` / ``<month> -N``."""

    def parse(self, cursor: _Cursor) -> DaySpec | None:
        """The word, then a day number the month can have."""
        token = cursor.peek()
        if token is None or token.kind is not Kind.WORD:
            return None
        if token.text == "day":
            month, most = None, 31
        elif token.text in MONTHS:
            month = MONTHS.index(token.text) + 1
            most = max_month_length(month)
        else:
            return None
        cursor.take()
        expected = f"expected a day number 1-{most} or -1..-{most}"
        if month is not None and most < 31:
            expected += f" ({token.text} never has more than {most} days)"
        return MonthDaySpec(month, cursor.number(1, most, expected))


class NthWeekdayForm:
    """``<weekday> N [<month>]`` and ``<weekday> -N [<month>]``."""

    def parse(self, cursor: _Cursor) -> DaySpec | None:
        """A weekday followed by a number, then maybe a month."""
        weekday = _word(cursor.peek(), WEEKDAYS)
        following = cursor.peek(1)
        if weekday is None or following is None or following.kind is not Kind.NUMBER:
            return None
        cursor.take()
        # Icinga 2 loops forever on "monday 0"; a month never has a 6th weekday.
        number = cursor.number(1, 5, "expected a day number 1-5 or -1..-5")
        month: int | None = None
        token = cursor.peek()
        if token is not None and token.kind is Kind.WORD:
            month = _word(token, MONTHS)
            if month is None:
                raise cursor.fail(token, "expected a month like 'may', ' - ', '/' or the end")
            cursor.take()
            month += 1
        return NthWeekdaySpec(weekday, number, month)


class WeekdayForm:
    """``monday``."""

    def parse(self, cursor: _Cursor) -> DaySpec | None:
        """A weekday on its own."""
        weekday = _word(cursor.peek(), WEEKDAYS)
        if weekday is None:
            return None
        cursor.take()
        return WeekdaySpec(weekday)


# Order matters: "monday 2" must reach NthWeekdayForm before WeekdayForm takes "monday".
FORMS: tuple[_Form, ...] = (DateForm(), MonthDayForm(), NthWeekdayForm(), WeekdayForm())
_KNOWN_WORDS = frozenset(("day", *WEEKDAYS, *MONTHS))


def _spec(cursor: _Cursor) -> DaySpec:
    """The first form that recognises the tokens at the cursor."""
    for form in FORMS:
        spec = form.parse(cursor)
        if spec is not None:
            return spec
    token = cursor.peek()
    if token is not None and token.kind is Kind.WORD and token.text.lower() in _KNOWN_WORDS:
        raise cursor.fail(token, f"expected lowercase {token.text.lower()!r}, as Icinga 2 does")
    raise cursor.fail(token, _START)


# --- whole keys --------------------------------------------------------------------------


def _range_end(cursor: _Cursor, first: DaySpec) -> DaySpec:
    """Parse ``B`` of ``A - B``; a bare number repeats A's first word: ``day 1 - 15``."""
    token = cursor.peek()
    if token is None:
        raise cursor.fail(None, "expected the end of the range after ' - '")
    inherited = token.kind is Kind.NUMBER
    if inherited:
        lead = cursor.tokens[0]
        if lead.kind is not Kind.WORD:
            raise cursor.fail(
                token,
                (
                    "expected a date YYYY-MM-DD as the range end "
                    "(a bare number only repeats a word, as in 'day 1 - 15')"
                ),
            )
        # "january 1 - 15" reads as "january 1 - january 15", as Icinga 2 reads it.
        rest = [Token(Kind.WORD, lead.text, token.position), *cursor.tokens[cursor.index :]]
        sub = _Cursor(cursor.key, rest)
        last = _spec(sub)
        cursor.index += sub.index - 1
    else:
        last = _spec(cursor)
    if last.cycle is not first.cycle:
        hint = f" (a bare number only repeats the first word: {last.text!r})" if inherited else ""
        raise cursor.fail(
            token,
            f"expected a range end of the same kind as {first.text!r}: "
            f"{_KINDS_OF_CYCLE[first.cycle]}{hint}",
        )
    if first.cycle is Cycle.ABSOLUTE:
        begin, end = first.start(0), last.start(0)
        assert begin is not None and end is not None  # dates always exist
        if end < begin:
            raise cursor.fail(token, f"expected a date on or after {begin.isoformat()}")
    return last


def _stride(cursor: _Cursor, ranged: bool) -> int:
    """Parse ``/ N`` after a range: every N-th day, counted from the range's first day."""
    slash = cursor.take()
    if not ranged:
        raise cursor.fail(slash, "expected a range 'A - B' before a stride '/ N'")
    token = cursor.peek()
    if token is None or token.kind is not Kind.NUMBER or int(token.text) < 1:
        raise cursor.fail(token, "expected a stride: a whole number of days, 1 or more")
    return int(cursor.take().text)


def parse_key(key: str) -> DayRule:
    """Parse a whole ranges key: ``A``, ``A - B`` or ``A - B / N``.

    Raises InvalidTimeRange naming the key, the offending token and its position.
    """
    cursor = _Cursor(key, tokenize(key))
    if not cursor.tokens:
        raise InvalidTimeRange.in_key(key, key, 0, _START)
    first = _spec(cursor)
    last: DaySpec | None = None
    token = cursor.peek()
    if token is not None and token.kind is Kind.DASH:
        cursor.take()
        last = _range_end(cursor, first)
    stride = 1
    token = cursor.peek()
    if token is not None and token.kind is Kind.SLASH:
        stride = _stride(cursor, last is not None)
    token = cursor.peek()
    if token is not None:
        can_follow = (
            "'/ N' or the end of the key" if last is not None else "' - ', '/ N' or the end"
        )
        raise cursor.fail(token, f"expected {can_follow}")
    if last is None:
        return SingleDay(first)
    return DayRange(first, last, stride)
