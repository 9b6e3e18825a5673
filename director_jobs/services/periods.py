"""Time periods in the database: validation, writes, and TimePeriod objects for the runner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.errors import InvalidInput, NotFound
from director_jobs.model import PeriodSpec
from director_jobs.periods import PeriodDefinition, TimePeriod, resolve_periods
from director_jobs.services.activity import ActivityLog, definition
from director_jobs.upsert import upsert_by_name
from director_jobs.validation import refuse_unstorable, validate_name

# How far `check` looks back for the start of the current state.
LOOKBACK = timedelta(days=366)
# Longest span `windows` answers for at once: a year of a busy period is a few
# thousand windows, computed in milliseconds.
MAX_WINDOW_SPAN = timedelta(days=366)


@dataclass(frozen=True)
class PeriodState:
    """Whether a period is active at an instant, since when and until when (None: beyond reach)."""

    active: bool
    since: datetime | None
    until: datetime | None


def parse_range_option(text: str) -> tuple[str, str]:
    """`monday=09:00-17:00` -> ('monday', '09:00-17:00'); the value may be empty."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InvalidInput("range", text, "expected KEY=VALUE, e.g. 'monday=09:00-17:00'")
    return key.strip(), value.strip()


class PeriodService:
    """The operations behind `timeperiods …`; also the runner's PeriodSource."""

    def __init__(
        self, database: Database, clock: Clock, default_timezone: str, *, actor: str = "system"
    ) -> None:
        self.database = database
        self.clock = clock
        self.default_timezone = default_timezone
        self.activity = ActivityLog(database, clock, actor)
        self._resolved: dict[str, TimePeriod] | None = None

    # -- PeriodSource ----------------------------------------------------------------

    def refresh(self) -> None:
        """Forget the cached periods: the next look-up reads the table again."""
        self._resolved = None

    def period(self, name: str) -> TimePeriod:
        """The TimePeriod `name` (NotFound when undefined)."""
        if self._resolved is None:
            self._resolved = self.resolve(self.database.periods.all())
        try:
            return self._resolved[name]
        except KeyError:
            raise NotFound(f"timeperiod: no time period named {name!r}") from None

    # -- validation ---------------------------------------------------------------------

    def definition(self, spec: PeriodSpec) -> PeriodDefinition:
        """The evaluator's view of a stored spec (default zone filled in)."""
        return PeriodDefinition(
            ranges=spec.ranges,
            includes=spec.includes,
            excludes=spec.excludes,
            prefer_includes=spec.prefer_includes,
            timezone=spec.timezone or self.default_timezone,
            display_name=spec.display_name,
        )

    def resolve(self, specs: Sequence[PeriodSpec]) -> dict[str, TimePeriod]:
        """Build all periods; InvalidTimeRange names a bad key, reference or cycle."""
        return resolve_periods({spec.name: self.definition(spec) for spec in specs})

    def validate(self, spec: PeriodSpec) -> None:
        """Check the name (the rest is checked when resolving with the others)."""
        validate_name(spec.name)
        refuse_unstorable(spec.ranges, f"timeperiods.{spec.name}.ranges")
        refuse_unstorable(spec.display_name or "", f"timeperiods.{spec.name}.display_name")
        for field_name, names in (("includes", spec.includes), ("excludes", spec.excludes)):
            for name in names:
                validate_name(name, field_name)

    # -- writes -----------------------------------------------------------------------

    def add(self, spec: PeriodSpec) -> TimePeriod:
        """Validate `spec` together with the stored periods, then store it."""
        self.validate(spec)
        existing = self.database.periods.all()
        if any(p.name == spec.name for p in existing):
            raise InvalidInput("name", spec.name, "a time period of that name exists already")
        resolved = self.resolve([*existing, spec])
        with self.database.engine.begin() as connection:
            self.database.periods.insert(connection, spec, self.clock.now())
            self.activity.note(
                "created", "timeperiod", spec.name, after=definition(spec), connection=connection
            )
        return resolved[spec.name]

    def delete(self, name: str) -> None:
        """Delete a period that no job and no other period uses."""
        with self.database.engine.begin() as connection:
            specs = self.database.periods.all(connection)
            if not any(p.name == name for p in specs):
                raise NotFound(f"timeperiod: no time period named {name!r}")
            users = self.database.periods.users(connection, name)
            if users:
                raise InvalidInput(
                    "timeperiod", name, f"still used by jobs: {', '.join(users)}; change them first"
                )
            referrers = [p.name for p in specs if name in p.includes or name in p.excludes]
            if referrers:
                raise InvalidInput(
                    "timeperiod", name, f"included or excluded by: {', '.join(referrers)}"
                )
            self.database.periods.delete_in(connection, name)
            before = next(p for p in specs if p.name == name)
            self.activity.note(
                "deleted", "timeperiod", name, before=definition(before), connection=connection
            )

    def apply_in(
        self, connection: Connection, specs: Sequence[PeriodSpec], now: datetime
    ) -> tuple[list[str], list[str], list[str]]:
        """Create or update `specs` inside a transaction; return (created, updated, unchanged)."""
        for spec in specs:
            self.validate(spec)
        existing = {p.name: p for p in self.database.periods.all(connection)}
        wanted = {spec.name: spec for spec in specs}
        self.resolve(list({**existing, **wanted}.values()))  # references resolve, no cycles
        periods = self.database.periods
        created, updated, same = upsert_by_name(
            specs,
            existing,
            insert=lambda spec: periods.insert(connection, spec, now),
            replace=lambda _old, spec: periods.replace(connection, spec, now),
        )
        if updated:
            self.database.jobs.undefer_all(connection)  # re-check postponed jobs at once
        self.refresh()
        return created, updated, same

    def import_in(
        self, connection: Connection, specs: Sequence[PeriodSpec], now: datetime
    ) -> tuple[list[str], list[str], list[str]]:
        """`apply_in` for `timeperiods import`, with each change in the activity log."""
        before = {spec.name: definition(spec) for spec in self.database.periods.all(connection)}
        created, updated, same = self.apply_in(connection, specs, now)
        wanted = {spec.name: spec for spec in specs}
        for name in created:
            self.activity.note(
                "created", "timeperiod", name, after=definition(wanted[name]), connection=connection
            )
        for name in updated:
            self.activity.note(
                "updated",
                "timeperiod",
                name,
                before=before[name],
                after=definition(wanted[name]),
                connection=connection,
            )
        return created, updated, same

    def prune_in(self, connection: Connection, keep: set[str]) -> list[str]:
        """Delete periods not in `keep`; fails when a remaining job or period uses one."""
        doomed = [p.name for p in self.database.periods.all(connection) if p.name not in keep]
        for name in doomed:
            users = self.database.periods.users(connection, name)
            if users:
                raise InvalidInput(
                    "timeperiod", name, f"cannot prune: still used by jobs {', '.join(users)}"
                )
            self.database.periods.delete_in(connection, name)
        if doomed:
            self.database.jobs.undefer_all(connection)
        remaining = self.database.periods.all(connection)
        self.resolve(remaining)  # a kept period must not refer to a pruned one
        self.refresh()
        return doomed

    # -- questions -------------------------------------------------------------------------

    def state(self, name: str, at: datetime) -> PeriodState:
        """Active or not at `at`, since the last change (within a year) and until the next."""
        period = self.period(name)
        active = period.contains(at)
        until = period.next_transition(at)
        since = None
        windows = list(period.windows(at - LOOKBACK, at + timedelta(microseconds=1)))
        if active and windows:
            start = windows[-1][0]
            since = start if start > at - LOOKBACK else None
        elif not active and windows:
            since = windows[-1][1]
        return PeriodState(active, since, until)

    def listing(self, at: datetime) -> list[tuple[PeriodSpec, bool]]:
        """Every period's definition and whether it is active at `at`, by name."""
        return [(spec, self.period(spec.name).contains(at)) for spec in self.database.periods.all()]

    def windows(self, name: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The active windows of `name` within [start, end), which may span a year at most."""
        if end <= start:
            raise InvalidInput("to", end.isoformat(), "expected a time after 'from'")
        if end - start > MAX_WINDOW_SPAN:
            raise InvalidInput("to", end.isoformat(), "expected at most 366 days after 'from'")
        return list(self.period(name).windows(start, end))

    def upcoming_windows(
        self, name: str, start: datetime, count: int
    ) -> list[tuple[datetime, datetime | None]]:
        """The next `count` windows from `start` (a window in progress counts, from its start)."""
        period = self.period(name)
        result: list[tuple[datetime, datetime | None]] = []
        cursor: datetime | None = start
        if period.contains(start):
            cursor = period.next_transition(start)
            result.append((self.state(name, start).since or start, cursor))
        while cursor is not None and len(result) < count:
            begin = period.next_transition(cursor)
            if begin is None:
                break
            cursor = period.next_transition(begin)
            result.append((begin, cursor))
        return result
