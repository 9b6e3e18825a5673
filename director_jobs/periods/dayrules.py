"""Which local dates a parsed ranges key selects: one day definition, or a range with a stride."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from director_jobs.periods.dates import Cycle

__all__ = ["DayRange", "DayRule", "DaySpec", "SingleDay"]


class DaySpec(Protocol):
    """One day definition ("monday", "day -1", "2026-01-01", ...) resolved per repetition."""

    @property
    def cycle(self) -> Cycle:
        """How the definition repeats."""
        ...

    @property
    def text(self) -> str:
        """The definition in canonical spelling, e.g. ``monday 2 may``."""
        ...

    @property
    def mentions_february_29(self) -> bool:
        """Whether it names February 29, a day Icinga 2 moves to March 1 in other years."""
        ...

    def start(self, index: int) -> date | None:
        """The day in repetition ``index``, or None when that repetition has no such day."""
        ...

    def end(self, index: int) -> date:
        """The day in repetition ``index`` as a range end; a missing day clamps into the month."""
        ...

    def matches(self, day: date) -> bool:
        """Whether ``day`` is the day this definition names."""
        ...


class DayRule(Protocol):
    """What a whole ranges key selects."""

    def matches(self, day: date) -> bool:
        """Whether the key selects local date ``day``."""
        ...

    def warnings(self, key: str) -> list[str]:
        """Notes on where Icinga 2 2.15+ evaluates ``key`` differently from us."""
        ...


_FEBRUARY_29 = (
    "Icinga 2 reads february 29 as March 1 in non-leap years; director-jobs skips it then "
    "(and ends a range on February 28)"
)


@dataclass(frozen=True, slots=True)
class SingleDay:
    """A key that names one day definition: ``monday``, ``day -1``, ``2026-12-24``."""

    spec: DaySpec

    def matches(self, day: date) -> bool:
        """Whether ``day`` is the named day."""
        return self.spec.matches(day)

    def warnings(self, key: str) -> list[str]:
        """Only February 29 behaves differently in Icinga 2."""
        return [f"key {key!r}: {_FEBRUARY_29}"] if self.spec.mentions_february_29 else []


def _ordinal(n: int) -> str:
    """English ordinal: 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True, slots=True)
class DayRange:
    """A key ``A - B [/ N]``: every ``stride``-th day from A through B, both inclusive.

    Each repetition (week, month, year) starts one range at A and ends it at the first B on or
    after A, so a range whose end comes first wraps: ``day 25 - 5`` in January runs from
    January 25 to February 5. The stride counts calendar days from that range's A, so a DST
    change does not shift it: ``2026-03-27 - 2026-04-30 / 2`` in Europe/Berlin selects March 27,
    March 29 (23 hours long) and March 31.
    """

    first: DaySpec
    last: DaySpec
    stride: int = 1

    def span(self, index: int) -> tuple[date, date] | None:
        """First and last day of the range that starts in repetition ``index``, if any."""
        start = self.first.start(index)
        if start is None:
            return None  # e.g. "day 31 - ..." in April: that month has no range
        end = self.last.end(index)
        if end < start:
            end = self.last.end(index + 1)
        return start, end

    def matches(self, day: date) -> bool:
        """Whether ``day`` lies in a range started in its repetition or in the one before."""
        cycle = self.first.cycle
        index = cycle.index(day)
        # A range that wrapped out of the previous repetition can still cover this day.
        candidates = (index,) if cycle is Cycle.ABSOLUTE else (index, index - 1)
        for candidate in candidates:
            span = self.span(candidate)
            if span is None or not span[0] <= day <= span[1]:
                continue
            if (day - span[0]).days % self.stride == 0:
                return True
        return False

    def _wrapping(self) -> tuple[int, int]:
        """How many sampled repetitions start a range, and how many of those wrap."""
        started = wrapped = 0
        for index in self.first.cycle.sample():
            start = self.first.start(index)
            if start is None:
                continue
            started += 1
            wrapped += self.last.end(index) < start
        return started, wrapped

    def warnings(self, key: str) -> list[str]:
        """Weekday ranges, wrapping ranges and February 29 differ in Icinga 2."""
        notes: list[str] = []
        if self.first.cycle is Cycle.WEEKLY:
            if self.first.text != self.last.text:
                first, last = self.first.text.capitalize(), self.last.text.capitalize()
                every = "" if self.stride == 1 else f"every {_ordinal(self.stride)} day from "
                notes.append(
                    f"key {key!r}: Icinga 2 matches only {first}s for weekday ranges; "
                    f"director-jobs matches {every}{first} through {last}"
                )
        else:
            started, wrapped = self._wrapping()
            if wrapped:
                where = "" if wrapped == started else f" (here in some {self.first.cycle.noun}s)"
                notes.append(
                    f"key {key!r}: Icinga 2 never matches a range whose end comes before its "
                    f"start{where}; director-jobs continues it into the next "
                    f"{self.first.cycle.noun}"
                )
        if self.first.mentions_february_29 or self.last.mentions_february_29:
            notes.append(f"key {key!r}: {_FEBRUARY_29}")
        return notes
