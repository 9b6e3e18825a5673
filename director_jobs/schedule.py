"""When a job is due: intervals (Director semantics) and cron expressions in a time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from director_jobs.errors import InvalidInput
from director_jobs.validation import zone

CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# APScheduler 3 numbers weekdays from Monday = 0; crontab from Sunday = 0 (and 7).
_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_ITEM = re.compile(r"^(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/(\d+))?$")
# Counting skipped slots stops here: the history says "more than" rather than loop for long.
MAX_COUNTED_SLOTS = 10_000


class Schedule(Protocol):
    """A rule that yields the next due instant."""

    def next_after(self, instant: datetime) -> datetime | None:
        """The first due instant strictly after `instant` (aware UTC), or None for never."""

    def describe(self) -> str:
        """Short text for listings."""


@dataclass(frozen=True)
class IntervalSchedule:
    """Due `seconds` after the start of the previous attempt (Icinga Director's rule)."""

    seconds: float

    def next_after(self, instant: datetime) -> datetime:
        """Start of the last attempt + interval."""
        return instant + timedelta(seconds=self.seconds)

    def describe(self) -> str:
        """E.g. 'every 900s'."""
        return f"every {self.seconds:g}s"


class CronSchedule:
    """A 5-field crontab (or @alias) evaluated in an IANA time zone, DST-correct.

    As in Vixie cron, when both day-of-month and day-of-week are restricted (neither
    starts with '*') a day matches when *either* does: `0 0 13 * 5` fires on every
    13th and every Friday.
    """

    def __init__(self, expression: str, timezone: str) -> None:
        self.expression = expression
        self.timezone = timezone
        self._zone = zone(timezone)
        self._triggers = _build_triggers(expression, timezone)
        hour_field = CRON_ALIASES.get(expression.strip().lower(), expression).split()[1]
        # Like Vixie cron, a job at a fixed hour runs once when autumn repeats that hour;
        # a job with a wildcard hour runs in both (they are different real instants).
        self._once_in_repeated_hour = not hour_field.startswith("*")

    def next_after(self, instant: datetime) -> datetime | None:
        """The earliest fire time strictly after `instant`.

        Spring gap: 02:30 in Europe/Berlin on the change day fires at 03:30 CEST.
        Autumn: `30 2 * * *` fires at 02:30 CEST only, not again at 02:30 CET.
        """
        for _ in range(4):  # at most one repeated occurrence can be skipped; 4 is ample
            start = instant + timedelta(microseconds=1)
            times = [t.get_next_fire_time(None, start) for t in self._triggers]
            found = [t for t in times if t is not None]
            if not found:
                return None
            candidate: datetime = min(found).astimezone(UTC)
            if not (self._once_in_repeated_hour and candidate.astimezone(self._zone).fold):
                return candidate
            instant = candidate
        return None

    def describe(self) -> str:
        """E.g. "cron '0 3 * * *' Europe/Berlin"."""
        return f"cron {self.expression!r} {self.timezone}"


def _build_triggers(expression: str, timezone: str) -> list[Any]:
    """Translate crontab text into APScheduler CronTriggers (one or two, for the OR rule)."""
    from apscheduler.triggers.cron import CronTrigger  # only paths that compute cron times pay

    text = CRON_ALIASES.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise InvalidInput(
            "cron",
            expression,
            f"expected 5 fields (minute hour day month weekday), got {len(fields)}",
        )
    minute, hour, day, month, weekday_text = fields
    weekday = _weekday_field(weekday_text, expression)
    tz = zone(timezone)
    variants = [(day, weekday)]
    # Vixie cron: a field starting with '*' (also '*/2') counts as unrestricted.
    if not day.startswith("*") and not weekday_text.startswith("*"):
        variants = [(day, "*"), ("*", weekday)]
    try:
        return [
            CronTrigger(minute=minute, hour=hour, day=d, month=month, day_of_week=w, timezone=tz)
            for d, w in variants
        ]
    except ValueError as exc:
        raise InvalidInput("cron", expression, str(exc)) from None


def _weekday_field(field: str, expression: str) -> str:
    """Rewrite a crontab weekday field (0/7 = Sunday, names, ranges, steps) as explicit names."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        match = _DOW_ITEM.match(item)
        if not match:
            raise InvalidInput("cron", expression, f"cannot read weekday {item!r}")
        first, last, step = match.groups()
        if first == "*":
            low, high = 0, 6
        else:
            low = _weekday_number(first, expression)
            high = _weekday_number(last, expression) if last else (6 if step else low)
        if high < low:
            raise InvalidInput("cron", expression, f"weekday range {item!r} runs backwards")
        if step is not None and int(step) == 0:
            raise InvalidInput("cron", expression, f"weekday step in {item!r} must be at least 1")
        for number in range(low, high + 1, int(step or 1)):
            days.add(number % 7)
    if len(days) == 7:
        return "*"
    return ",".join(_CRON_WEEKDAYS[d] for d in sorted(days))


def _weekday_number(token: str, expression: str) -> int:
    """0-7 or a three-letter name to 0-7 (7 is Sunday again)."""
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token[:3] in _CRON_WEEKDAYS and len(token) == 3:
        return _CRON_WEEKDAYS.index(token[:3])
    raise InvalidInput("cron", expression, f"unknown weekday {token!r}: expected 0-7 or sun-sat")


@lru_cache(maxsize=1024)
def cron_schedule(expression: str, timezone: str) -> CronSchedule:
    """A cached CronSchedule (parsing is the expensive part)."""
    return CronSchedule(expression, timezone)


def schedule_of(
    interval: float | None, cron: str | None, timezone: str | None, default_timezone: str
) -> Schedule | None:
    """The schedule a job definition states, or None for a manual-only job."""
    if interval is not None:
        return IntervalSchedule(interval)
    if cron is not None:
        return cron_schedule(cron, timezone or default_timezone)
    return None


def first_due(schedule: Schedule | None, now: datetime) -> datetime | None:
    """When a new (never attempted) job is first due: intervals at once, cron at its next slot."""
    if schedule is None:
        return None
    if isinstance(schedule, IntervalSchedule):
        return now
    return schedule.next_after(now)


def due_by_schedule(
    schedule: Schedule | None, last_attempt: datetime | None, now: datetime
) -> datetime | None:
    """When the schedule alone makes a job due: after its last attempt, or first due."""
    if schedule is None:
        return None
    if last_attempt is None:
        return first_due(schedule, now)
    return schedule.next_after(last_attempt)


@dataclass(frozen=True)
class MissedSlots:
    """Slots that passed while nothing ran; they are skipped, not replayed."""

    count: int
    first: datetime
    last: datetime
    more: bool  # True when counting stopped at MAX_COUNTED_SLOTS


def missed_slots(schedule: Schedule, due_at: datetime, now: datetime) -> MissedSlots | None:
    """Slots after `due_at` up to `now` that a late start swallows (the run covers `due_at`).

    Example: an hourly interval due at 10:00, started at 13:30, skips 11:00, 12:00, 13:00.
    """
    if isinstance(schedule, IntervalSchedule):
        count = int((now - due_at).total_seconds() // schedule.seconds)
        if count <= 0:
            return None
        step = timedelta(seconds=schedule.seconds)
        return MissedSlots(count, due_at + step, due_at + step * count, False)
    slot = schedule.next_after(due_at)
    first = slot
    count = 0
    last = due_at
    while slot is not None and slot <= now and count < MAX_COUNTED_SLOTS:
        count += 1
        last = slot
        slot = schedule.next_after(slot)
    if count == 0 or first is None:
        return None
    return MissedSlots(count, first, last, slot is not None and slot <= now)
