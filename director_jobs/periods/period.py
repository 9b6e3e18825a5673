"""TimePeriod: an Icinga 2 time period, evaluated in UTC day buckets with bounded caches."""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from director_jobs.periods import intervals
from director_jobs.periods.dayrules import DayRange, DayRule
from director_jobs.periods.errors import InvalidTimeRange
from director_jobs.periods.grammar import parse_key
from director_jobs.periods.timeofday import DAY_SECONDS, TimeRange, parse_time_ranges

__all__ = ["TimePeriod", "clear_caches", "validate_ranges"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_DAY = timedelta(days=1)
# next_transition looks this many UTC days ahead: five years of 366 days, plus one.
HORIZON_DAYS = 5 * 366 + 1
# Includes and excludes are evaluated recursively, a few stack frames per level: this limit
# keeps the deepest evaluation far below Python's recursion limit of 1000 frames.
MAX_NESTING = 50
# Each cache holds at most this many entries over all periods: a few MB at most. One
# next_transition over the whole horizon touches about 1,830 of each.
CACHE_SIZE = 8192
# Day numbers (days since 1970-01-01 UTC) of 0002-01-01 and 9998-12-31: keeps every local
# date, the day before it and a horizon after it inside datetime's years 1-9999.
_FIRST_DAY = (datetime(2, 1, 1, tzinfo=UTC) - _EPOCH).days
_LAST_DAY = (datetime(9998, 12, 31, tzinfo=UTC) - _EPOCH).days

Rule = tuple[str, DayRule, tuple[TimeRange, ...]]


def _compile(ranges: Mapping[str, str]) -> tuple[Rule, ...]:
    """Parse every key and value; raise InvalidTimeRange on the first bad one."""
    if not isinstance(ranges, Mapping):
        raise InvalidTimeRange(
            field="ranges", value=repr(ranges), expected="expected a mapping of key to time ranges"
        )
    rules: list[Rule] = []
    for key, text in ranges.items():
        if not isinstance(key, str):
            raise InvalidTimeRange(
                field="ranges", value=repr(key), expected="expected a string key"
            )
        if not isinstance(text, str):
            raise InvalidTimeRange.in_key(key, repr(text), 0, "expected a string of time ranges")
        rules.append((key, parse_key(key), parse_time_ranges(key, text)))
    return tuple(rules)


def validate_ranges(ranges: Mapping[str, str]) -> None:
    """Check a ranges mapping without building a period; raise InvalidTimeRange when invalid."""
    _compile(ranges)


def _zone(name: object) -> ZoneInfo:
    """The IANA zone ``name``; the host's "localtime" is refused so results never vary by host."""
    expected = "expected an IANA time zone name like 'Europe/Berlin' or 'UTC'"
    if not isinstance(name, str) or name == "localtime":
        raise InvalidTimeRange(field="timezone", value=str(name), expected=expected)
    try:
        return ZoneInfo(name)
    except (ValueError, LookupError, OSError):
        raise InvalidTimeRange(field="timezone", value=name, expected=expected) from None


def _nesting(includes: Sequence[TimePeriod], excludes: Sequence[TimePeriod]) -> int:
    """Levels of includes and excludes below a new period: 0 without any."""
    depth = 0
    for field, periods in (("includes", includes), ("excludes", excludes)):
        for period in periods:
            if not isinstance(period, TimePeriod):
                raise TypeError(f"{field} must hold TimePeriod objects, got {period!r}")
            depth = max(depth, period._depth + 1)
            if depth > MAX_NESTING:
                raise InvalidTimeRange(
                    field=field,
                    value=str(period.name),
                    expected=f"expected at most {MAX_NESTING} levels of nested includes/excludes",
                )
    return depth


def _seconds(instant: datetime, what: str) -> tuple[int, int]:
    """Whole seconds since the epoch and the microseconds left over, exactly (no float)."""
    try:
        delta = instant - _EPOCH
    except TypeError:
        raise ValueError(f"{what} must be an aware datetime, got {instant!r}") from None
    if not _FIRST_DAY <= delta.days <= _LAST_DAY:
        raise ValueError(f"{what} must lie in the years 2-9998, got {instant!r}")
    return delta.days * DAY_SECONDS + delta.seconds, delta.microseconds


def _utc(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def _wall(zone: ZoneInfo, day: date, seconds: int) -> int:
    """Epoch seconds of a wall-clock time on local ``day``, as Icinga 2 reads it.

    fold=0 gives exactly Icinga 2's DST rules: in the spring gap the offset before the change
    applies (Europe/Berlin 2026-03-29 02:30 is read as +01:00, i.e. 01:30 UTC = 03:30 CEST),
    and a repeated autumn time means its first occurrence (2026-10-25 02:30 is +02:00).
    """
    hours, rest = divmod(seconds, 3600)
    local = datetime(day.year, day.month, day.day, hours, rest // 60, rest % 60, tzinfo=zone)
    delta = local - _EPOCH
    return delta.days * DAY_SECONDS + delta.seconds


class TimePeriod:
    """An immutable Icinga 2 TimePeriod: ranges, includes, excludes and a time zone.

    Everything is validated here; evaluation never raises for a built period. Instants are
    compared as whole epoch seconds: a range is active for ``begin <= t < end``.
    """

    __slots__ = (
        "__weakref__",
        "_depth",
        "_never",
        "_rules",
        "_zone",
        "excludes",
        "includes",
        "name",
        "prefer_includes",
        "ranges",
        "timezone",
    )

    name: str | None
    timezone: str
    ranges: Mapping[str, str]
    includes: tuple[TimePeriod, ...]
    excludes: tuple[TimePeriod, ...]
    prefer_includes: bool
    _zone: ZoneInfo
    _rules: tuple[Rule, ...]
    _never: bool
    _depth: int

    def __init__(
        self,
        ranges: Mapping[str, str],
        *,
        includes: Sequence[TimePeriod] = (),
        excludes: Sequence[TimePeriod] = (),
        prefer_includes: bool = True,
        timezone: str = "UTC",
        name: str | None = None,
    ) -> None:
        try:
            depth = _nesting(includes, excludes)
            rules = _compile(ranges)
            zone = _zone(timezone)
        except InvalidTimeRange as error:
            if name is None:
                raise
            raise error.in_period(name) from None
        values = {
            "name": name,
            "timezone": timezone,
            "ranges": MappingProxyType(dict(ranges)),
            "includes": tuple(includes),
            "excludes": tuple(excludes),
            "prefer_includes": bool(prefer_includes),
            "_zone": zone,
            "_rules": rules,
            # No own times and nothing included: never active, whatever is excluded.
            "_never": all(not times for _, _, times in rules)
            and all(period._never for period in includes),
            "_depth": depth,
        }
        for attribute, value in values.items():
            object.__setattr__(self, attribute, value)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"TimePeriod is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"TimePeriod is immutable: cannot delete {name!r}")

    def __repr__(self) -> str:
        return (
            f"TimePeriod(name={self.name!r}, timezone={self.timezone!r}, "
            f"ranges={dict(self.ranges)!r}, includes={len(self.includes)}, "
            f"excludes={len(self.excludes)}, prefer_includes={self.prefer_includes})"
        )

    # --- queries ---------------------------------------------------------------------

    def contains(self, instant: datetime) -> bool:
        """Whether the period is active at ``instant`` (aware; naive raises ValueError)."""
        seconds, _ = _seconds(instant, "instant")
        return intervals.contains(_bucket(self, seconds // DAY_SECONDS), seconds)

    def next_transition(self, after: datetime) -> datetime | None:
        """The first instant strictly after ``after`` where ``contains`` changes, in UTC.

        None when nothing changes within HORIZON_DAYS (over five years).
        """
        seconds, _ = _seconds(after, "after")
        if self._never:
            return None
        day = seconds // DAY_SECONDS
        flat = _bucket(self, day)
        # Boundaries inside the bucket are real changes; one at the bucket's end may not be.
        at = bisect_right(flat, seconds)
        high = (day + 1) * DAY_SECONDS
        if at < len(flat) and flat[at] < high:
            return _utc(flat[at])
        active = bool(flat) and flat[-1] == high
        for later in range(day + 1, min(day + 1 + HORIZON_DAYS, _LAST_DAY + 1)):
            flat = _bucket(self, later)
            low = later * DAY_SECONDS
            starts_active = bool(flat) and flat[0] == low
            if starts_active != active:
                return _utc(low)
            inner = flat[1:] if starts_active else flat
            if inner and inner[0] < low + DAY_SECONDS:
                return _utc(inner[0])
            active = starts_active
        return None

    def windows(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Active intervals ``[begin, end)`` within ``[start, end)``, merged, in UTC.

        Example: ``00:00-24:00`` for all seven weekdays in Europe/Berlin gives one window from
        ``start`` to ``end``, across midnights and DST changes alike.
        """
        first, first_us = _seconds(start, "start")
        last, last_us = _seconds(end, "end")
        return self._windows(first * 10**6 + first_us, last * 10**6 + last_us)

    def _windows(self, low: int, high: int) -> Iterator[tuple[datetime, datetime]]:
        """Windows between two instants given in microseconds since the epoch."""
        micro = 10**6
        pending: list[int] = []
        for day in range(low // (DAY_SECONDS * micro), (high - 1) // (DAY_SECONDS * micro) + 1):
            flat = _bucket(self, day)
            for index in range(0, len(flat), 2):
                begin = max(flat[index] * micro, low)
                end = min(flat[index + 1] * micro, high)
                if begin >= end:
                    continue
                if pending and begin <= pending[1]:
                    pending[1] = max(pending[1], end)
                    continue
                if pending:
                    yield _from_micro(pending[0]), _from_micro(pending[1])
                pending = [begin, end]
        if pending:
            yield _from_micro(pending[0]), _from_micro(pending[1])

    def warnings(self) -> list[str]:
        """Notes on keys that Icinga 2 evaluates differently, here and in included periods."""
        notes = [note for key, rule, _ in self._rules for note in rule.warnings(key)]
        if _changes_clocks(self._zone):
            notes += [
                f"key {key!r}: {_STRIDE_ACROSS_DST.format(zone=self._zone.key)}"
                for key, rule, _ in self._rules
                if isinstance(rule, DayRange) and rule.stride > 1
            ]
        for field, periods in (("included", self.includes), ("excluded", self.excludes)):
            for period in periods:
                label = "an unnamed period" if period.name is None else f"period {period.name!r}"
                notes += [f"{field} {label}: {note}" for note in period.warnings()]
        return list(dict.fromkeys(notes))

    # --- evaluation ------------------------------------------------------------------

    def _day_pairs(self, day: date) -> list[tuple[int, int]]:
        """UTC ``(begin, end)`` of every time range listed for local ``day`` (may run past it)."""
        pairs: list[tuple[int, int]] = []
        next_day = day + _ONE_DAY
        for _, rule, times in self._rules:
            if not times or not rule.matches(day):
                continue
            for time in times:
                ends_on = next_day if time.end_day else day
                begin = _wall(self._zone, day, time.begin)
                pairs.append((begin, _wall(self._zone, ends_on, time.end_of_day)))
        return pairs

    def _own(self, day: int) -> intervals.Flat:
        """This period's own ranges within UTC day ``day``, ignoring includes and excludes."""
        low = day * DAY_SECONDS
        high = low + DAY_SECONDS
        # A range listed for local date D lies within D and D + 1, so the local dates of the
        # bucket's two ends, and the day before the first, cover everything that can reach it.
        first = _utc(low).astimezone(self._zone).date() - _ONE_DAY
        last = _utc(high - 1).astimezone(self._zone).date()
        pairs: list[tuple[int, int]] = []
        local = first
        while local <= last:  # 2 to 4 dates: UTC offsets stay within a day
            pairs += _day_segments(self, local)
            local += _ONE_DAY
        return intervals.clip(intervals.from_pairs(pairs), low, high)

    def _evaluate(self, day: int) -> intervals.Flat:
        """Active intervals within UTC day ``day``, with includes and excludes applied.

        prefer_includes (Icinga 2's default): remove excludes, then add includes, so includes
        win; otherwise add includes first and remove excludes last, so excludes win.
        """
        own = self._own(day) if self._rules else intervals.EMPTY
        included = intervals.union(*(_bucket(period, day) for period in self.includes))
        excluded = intervals.union(*(_bucket(period, day) for period in self.excludes))
        if self.prefer_includes:
            return intervals.union(intervals.subtract(own, excluded), included)
        return intervals.subtract(intervals.union(own, included), excluded)


def _from_micro(micro: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micro)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _day_segments(period: TimePeriod, day: date) -> tuple[tuple[int, int], ...]:
    """Cached ``TimePeriod._day_pairs``: each local date is evaluated once per period."""
    return tuple(period._day_pairs(day))


@functools.lru_cache(maxsize=CACHE_SIZE)
def _bucket(period: TimePeriod, day: int) -> intervals.Flat:
    """Cached ``TimePeriod._evaluate`` for UTC day number ``day`` (days since 1970-01-01)."""
    return period._evaluate(day)


def clear_caches() -> None:
    """Forget every cached day and bucket, e.g. to measure cold evaluation."""
    _day_segments.cache_clear()
    _bucket.cache_clear()


_STRIDE_ACROSS_DST = (
    "Icinga 2 counts stride days in 24-hour steps from the range start, so after a "
    "daylight-saving change in {zone} its days can shift by one; director-jobs counts "
    "calendar days"
)


def _changes_clocks(zone: ZoneInfo) -> bool:
    """Whether the zone has a daylight-saving change (its January and July offsets differ)."""
    year = datetime.now(UTC).year
    winter = datetime(year, 1, 1, tzinfo=zone).utcoffset()
    summer = datetime(year, 7, 1, tzinfo=zone).utcoffset()
    return winter != summer
