"""Shared helpers for the time period tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from director_jobs.periods import TimePeriod
from director_jobs.periods.grammar import parse_key

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def days_matched(key: str, first: date, last: date) -> list[date]:
    """Local dates from ``first`` through ``last`` that ``key`` selects."""
    rule = parse_key(key)
    span = (last - first).days + 1
    return [day for day in (first + timedelta(days=n) for n in range(span)) if rule.matches(day)]


def local_windows(
    period: TimePeriod, start: datetime, end: datetime, zone: ZoneInfo
) -> list[tuple[str, str]]:
    """``period.windows`` as ISO strings in ``zone``, compact to read in tables."""
    return [
        (begin.astimezone(zone).isoformat(), stop.astimezone(zone).isoformat())
        for begin, stop in period.windows(start, end)
    ]
