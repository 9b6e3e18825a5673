"""Creating, changing and applying job definitions: validation first, then one transaction."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from director_jobs.clock import Clock
from director_jobs.cluster.wakeups import send_wakeup
from director_jobs.db.database import Database
from director_jobs.db.notifications_repo import Delivery
from director_jobs.errors import (
    DirectorJobsError,
    InvalidInput,
    JobAlreadyRunning,
    NotFound,
    TriggerPending,
    UnknownJobType,
)
from director_jobs.imports.service import ImportService
from director_jobs.imports.spec import SourceSpec
from director_jobs.job_types.base import Reference, ReferenceKind
from director_jobs.job_types.registry import Registry
from director_jobs.model import Job, JobSpec, PeriodSpec, Run, RunStatus, RunSummary, Trigger
from director_jobs.schedule import Schedule, due_by_schedule, first_due, schedule_of
from director_jobs.services.activity import ActivityLog, definition, snapshot
from director_jobs.services.periods import PeriodService
from director_jobs.services.starts import next_start
from director_jobs.sync.service import SyncService
from director_jobs.sync.spec import RuleSpec
from director_jobs.upsert import upsert_by_name
from director_jobs.validation import parse_duration, refuse_unstorable, validate_name, zone

# Retries back off exponentially: 1,000 of them outlast any schedule.
MAX_RETRIES = 1000
MAX_CRON_LENGTH = 255  # the column's size
# Shortest interval: a pass and its records take milliseconds; below a second a job
# would only ever be "late" and fill the history with skipped slots.
MIN_INTERVAL_SECONDS = 1

# `jobs next` and period look-ahead stop after this many steps, so a schedule whose
# slots never fall inside the period cannot loop forever.
MAX_LOOKAHEAD_STEPS = 100_000


@dataclass
class Changes:
    """Names created, updated, left unchanged and deleted in one section of a file."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KnownNames:
    """What a job may refer to while a file that defines them all is applied."""

    timeperiods: set[str]
    import_sources: set[str]
    sync_rules: set[str]

    def of(self, kind: ReferenceKind) -> set[str]:
        """The names of definitions of `kind`."""
        return self.import_sources if kind is ReferenceKind.IMPORT_SOURCE else self.sync_rules


@dataclass
class ApplyReport:
    """What `apply` did (or would do with --dry-run), section by section."""

    jobs: Changes = field(default_factory=Changes)
    timeperiods: Changes = field(default_factory=Changes)
    imports: Changes = field(default_factory=Changes)
    sync_rules: Changes = field(default_factory=Changes)


@dataclass(frozen=True)
class JobView:
    """A job with what an overview shows beside its definition."""

    job: Job
    last_run: RunSummary | None  # the newest run that ended (skipped slots left out)
    next_start: datetime | None

    @property
    def running(self) -> bool:
        """True while a runner holds the job."""
        return self.job.claimed_by is not None


@dataclass(frozen=True)
class JobDetail:
    """One job as `jobs show` and `GET /jobs/{name}` present it."""

    view: JobView
    effective_parameters: dict[str, Any]  # the type's defaults merged in, or {"error": …}
    recent_runs: list[Run]
    notifications: list[Delivery] = field(default_factory=list)  # newest first


@dataclass(frozen=True)
class Queued:
    """What a trigger did: the job, its queued run, and whether it joined one queued before."""

    job: Job
    run: Run
    joined: bool


@dataclass(frozen=True)
class JobFilter:
    """What `GET /jobs` and `jobs list` may narrow the list to (None: any)."""

    tag: str | None = None
    type: str | None = None
    status: RunStatus | None = None  # of the last run
    disabled: bool | None = None

    def admits(self, view: JobView) -> bool:
        """True when `view` passes every filter that is set."""
        spec = view.job.spec
        last = view.last_run.status if view.last_run else None
        return (
            (self.tag is None or self.tag in spec.tags)
            and (self.type is None or spec.type == self.type)
            and (self.status is None or last == self.status)
            and (self.disabled is None or spec.disabled == self.disabled)
        )


# Preconditions: a command line and a path of ordinary sizes.
MAX_REQUIRES_WORDS = 64
MAX_REQUIRES_TEXT = 4096


def _validate_requires(spec: JobSpec) -> None:
    """The precondition command is words of text, the path absolute; both storable."""
    command = spec.requires_command
    if command:
        if len(command) > MAX_REQUIRES_WORDS or not all(
            isinstance(word, str) and 0 < len(word) <= MAX_REQUIRES_TEXT for word in command
        ):
            raise InvalidInput(
                "requires_command",
                list(command),
                f"expected a program and its arguments: 1-{MAX_REQUIRES_WORDS} non-empty words",
            )
        refuse_unstorable(list(command), "requires_command")
    path = spec.requires_path
    if path is not None:
        if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_REQUIRES_TEXT:
            raise InvalidInput("requires_path", path, "expected an absolute path")
        refuse_unstorable(path, "requires_path")


class JobService:
    """The operations behind `jobs add/set/delete/next` and `apply`."""

    def __init__(
        self,
        database: Database,
        registry: Registry,
        clock: Clock,
        default_timezone: str,
        periods: PeriodService | None = None,
        *,
        actor: str = "system",
    ) -> None:
        self.database = database
        self.registry = registry
        self.clock = clock
        self.default_timezone = default_timezone
        self.periods = periods
        # Who the activity log names for this service's changes (cli:USER, api:TOKEN, …).
        self.activity = ActivityLog(database, clock, actor)

    def validate(self, spec: JobSpec, known: KnownNames | None = None) -> JobSpec:
        """Check every field of `spec`; raise InvalidInput (or UnknownJobType) naming it.

        `known` replaces the look-up of the time period, import sources and sync rules
        the job names (for `apply`, which defines them together with the jobs). Returns
        the spec as it is stored: a top-level null parameter means "the default" and is
        left out.
        """
        spec = dataclasses.replace(
            spec, parameters={k: v for k, v in spec.parameters.items() if v is not None}
        )
        _reject_nested_nulls(spec.parameters, "parameters")
        validate_name(spec.name)
        for field_name in ("type", "parameters", "cron", "timezone", "description", "tags"):
            refuse_unstorable(getattr(spec, field_name), field_name)
        job_type, params = self.registry.validated(spec.type, spec.parameters)
        self._validate_references(job_type.references(params), known)
        self._validate_schedule(spec)
        if spec.timeperiod is not None:
            self._validate_period(spec.timeperiod, known.timeperiods if known else None)
        parse_duration(spec.timeout, "timeout")
        parse_duration(spec.retry_delay, "retry_delay", allow_zero=True)
        if (
            isinstance(spec.retries, bool)
            or not isinstance(spec.retries, int)
            or not 0 <= spec.retries <= MAX_RETRIES
        ):
            raise InvalidInput("retries", spec.retries, f"expected a whole number 0-{MAX_RETRIES}")
        limit = spec.memory_limit
        if limit is not None and (not math.isfinite(limit) or limit <= 0):
            raise InvalidInput("memory_limit", limit, "expected a finite number of MiB above zero")
        for tag in spec.tags:
            validate_name(tag, "tags")
        _validate_requires(spec)
        return spec

    def _validate_schedule(self, spec: JobSpec) -> None:
        """Interval or cron (not both), the zone, and that the cron expression parses."""
        if spec.interval is not None and spec.cron is not None:
            raise InvalidInput(
                "cron", spec.cron, "give either an interval or a cron expression, not both"
            )
        if (
            spec.interval is not None
            and parse_duration(spec.interval, "interval") < MIN_INTERVAL_SECONDS
        ):
            raise InvalidInput(
                "interval", spec.interval, f"expected at least {MIN_INTERVAL_SECONDS} s"
            )
        if spec.cron is not None:
            if len(spec.cron) > MAX_CRON_LENGTH:
                raise InvalidInput(
                    "cron", spec.cron, f"expected at most {MAX_CRON_LENGTH} characters"
                )
            if not spec.cron.isascii():
                raise InvalidInput("cron", spec.cron, "expected ASCII digits, names and * , - /")
        if spec.timezone is not None:
            zone(spec.timezone)
        schedule = self.schedule(spec)  # parses the cron expression
        now = self.clock.now()
        if spec.cron is not None and schedule is not None and schedule.next_after(now) is None:
            raise InvalidInput("cron", spec.cron, "never fires (no such date)")

    def _validate_references(self, references: list[Reference], known: KnownNames | None) -> None:
        """Every import source and sync rule the parameters name must exist."""
        for reference in references:
            if known is not None:
                names = known.of(reference.kind)
            elif reference.kind is ReferenceKind.IMPORT_SOURCE:
                names = set(ImportService(self.database.engine, self.clock).names())
            else:
                names = set(SyncService(self.database.engine, self.clock).names())
            if reference.name not in names:
                section = (
                    "imports" if reference.kind is ReferenceKind.IMPORT_SOURCE else "sync_rules"
                )
                raise InvalidInput(
                    reference.field,
                    reference.name,
                    f"no {reference.kind} of that name; define it first ([{section}.NAME] "
                    "in a file for `director apply`)",
                )

    def _validate_period(self, name: str, known_periods: set[str] | None) -> None:
        """The time period must exist (in `known_periods`, or in the database)."""
        validate_name(name, "timeperiod")
        if known_periods is not None:
            if name not in known_periods:
                raise InvalidInput("timeperiod", name, "no time period of that name")
        elif self.periods is not None:
            try:
                self.periods.period(name)
            except NotFound:
                raise InvalidInput("timeperiod", name, "no time period of that name") from None

    def schedule(self, spec: JobSpec) -> Schedule | None:
        """The schedule `spec` states."""
        return schedule_of(spec.interval, spec.cron, spec.timezone, self.default_timezone)

    def add(self, spec: JobSpec) -> Job:
        """Validate and store a new job."""
        spec = self.validate(spec)
        now = self.clock.now()
        job = self.database.jobs.add(spec, now, first_due(self.schedule(spec), now))
        self.activity.note("created", "job", spec.name, after=definition(spec))
        send_wakeup(self.database.engine)  # a waiting daemon looks at its due time now
        return job

    def update(self, name: str, **changes: Any) -> Job:
        """Change fields of a job; the next due time follows a changed schedule."""
        job = self.database.jobs.get(name)
        spec = self.validate(dataclasses.replace(job.spec, **changes))
        now = self.clock.now()
        with self.database.engine.begin() as connection:
            self.database.jobs.replace(connection, job, spec, now, self._next_due(job, spec, now))
            if spec != job.spec:
                self.activity.note(
                    "updated",
                    "job",
                    name,
                    before=definition(job.spec),
                    after=definition(spec),
                    connection=connection,
                )
        if spec.disabled and not job.spec.disabled:
            self._drop_trigger(self.database.jobs.get(name), "disabled")
        send_wakeup(self.database.engine)
        return self.database.jobs.get(name)

    def _drop_trigger(self, job: Job, what: str) -> None:
        """A job just disabled: its queued run ends unstarted, its trigger is forgotten."""
        now = self.clock.now()
        due = due_by_schedule(self.schedule(job.spec), job.last_attempt_at, now)
        with self.database.engine.begin() as connection:
            self.database.jobs.cancel_trigger(connection, job, due)  # the job's row first
            self._end_queued(connection, job.name, what)

    def _next_due(self, job: Job, spec: JobSpec, now: datetime) -> datetime | None:
        """Keep the due time when the schedule is unchanged or a trigger waits; otherwise
        recompute it."""
        old, new = job.spec, spec
        if (old.interval, old.cron, old.timezone) == (new.interval, new.cron, new.timezone):
            return job.next_due_at
        if job.pending_trigger is Trigger.MANUAL:
            return job.next_due_at  # the trigger's "now"; the run after it follows the schedule
        return due_by_schedule(self.schedule(spec), job.last_attempt_at, now)

    def delete(self, name: str) -> None:
        """Delete a job (refused while it runs); a run queued for it ends unstarted."""
        with self.database.engine.begin() as connection:
            job = self.database.jobs.delete(connection, name)
            self._end_queued(connection, name, "deleted")
            self.activity.note(
                "deleted", "job", name, before=definition(job.spec), connection=connection
            )

    def _end_queued(self, connection: Connection, name: str, what: str) -> None:
        """End the run a trigger queued for job `name`, which was just `what` (deleted, …)."""
        self.database.runs.close_queued(
            connection,
            name,
            status=RunStatus.STOPPED,
            error=f"the job was {what} by {self.activity.actor} before this run started",
            now=self.clock.now(),
            stopped_by=self.activity.actor,
        )

    def get(self, name: str) -> Job:
        """One job by name (NotFound names it)."""
        return self.database.jobs.get(name)

    def view(self, name: str) -> JobView:
        """One job with its last run and next start."""
        with self.database.engine.connect() as connection:
            return self._view(name, connection)

    def _view(self, name: str, connection: Connection) -> JobView:
        """One job with its last run and next start, read on the caller's connection."""
        job = self.database.jobs.get(name, connection)
        last = self.database.runs.latest_by_job([name], connection).get(name)
        return JobView(job, last, self.next_start(job))

    def detail(self, name: str, recent: int = 5) -> JobDetail:
        """One job with its effective parameters and its newest `recent` runs."""
        # The four reads share one connection: the API asks on most requests, and every
        # checkout costs (on PostgreSQL a ping round trip, from pool_pre_ping).
        with self.database.engine.connect() as connection:
            view = self._view(name, connection)
            # The recent runs are listed without their output: neither `jobs show` nor
            # the API shows it there.
            runs = self.database.runs.history(
                name, recent, with_output=False, connection=connection
            )
            notifications = self.database.notifications.for_job(name, recent, connection)
        spec = view.job.spec
        try:
            effective = self.registry.validated(spec.type, spec.parameters)[1]
        except DirectorJobsError as exc:  # still useful for a job whose type is broken
            effective = {"error": str(exc)}
        return JobDetail(view, effective, runs, notifications)

    def tagged(self, tags: Sequence[str]) -> list[Job]:
        """The enabled jobs that carry any of `tags`, in the order they were defined
        (OpenSVC's `run --tags`); a tag no job carries is InvalidInput naming the known ones."""
        every = sorted(self.database.jobs.all(), key=lambda job: job.id)
        self.check_tags(tags, every)
        wanted = set(tags)
        return [job for job in every if not job.spec.disabled and wanted & set(job.spec.tags)]

    def check_tags(self, tags: Sequence[str], jobs: Sequence[Job] | None = None) -> None:
        """InvalidInput for the first of `tags` that no job (enabled or not) carries."""
        every = self.database.jobs.all() if jobs is None else jobs
        known = sorted({tag for job in every for tag in job.spec.tags})
        for tag in tags:
            if tag not in known:
                listing = ", ".join(known) if known else "none yet"
                raise InvalidInput("tag", tag, f"no job has this tag; the known tags: {listing}")

    def overview(self, where: JobFilter | None = None) -> list[JobView]:
        """Every job with its last run and next start, in one query however many jobs."""
        where = where or JobFilter()
        views = (
            JobView(job, last, self.next_start(job))
            for job, last in self.database.jobs.all_with_last_run()
        )
        return [view for view in views if where.admits(view)]

    def set_disabled(self, name: str, disabled: bool) -> Job:
        """Disable a job (a running attempt finishes; a queued run ends unstarted) or
        enable it again."""
        was = self.database.jobs.get(name).spec.disabled
        job = self.database.jobs.set_disabled(name, disabled, self.clock.now())
        if disabled and not was:
            self._drop_trigger(job, "disabled")
        if was != disabled:
            action = "disabled" if disabled else "enabled"
            self.activity.note(
                action, "job", name, before={"disabled": was}, after={"disabled": disabled}
            )
        send_wakeup(self.database.engine)
        return job

    def trigger(
        self, name: str, *, queue: bool = False, parameters: dict[str, Any] | None = None
    ) -> Queued:
        """Queue a run now: due at once with the manual trigger, ignoring its time period.

        `parameters` are merged over the job's for this run only, and validated as
        `jobs add` validates (a null value means the type's default). Refused for a
        disabled job, and while the job runs unless `queue` is set: then it runs once
        more after the current run ends (a trigger is never silently dropped). A second
        trigger before the queued run starts joins it when it asks for the same
        parameters, and is refused (TriggerPending) when it asks for others.
        """
        job = self.database.jobs.get(name)
        if job.spec.disabled:
            raise InvalidInput(
                "name",
                name,
                "the job is disabled; enable it, or run it now with `director jobs run NAME`",
            )
        if job.claimed_by and not queue:
            raise JobAlreadyRunning(
                f"job: {name!r} is running on {job.claimed_by}; it can be queued to run "
                "once more after this run"
            )
        overrides = dict(parameters) if parameters else None
        if overrides is not None:
            self._check_overrides(job, overrides)
        now = self.clock.now()
        with self.database.engine.begin() as connection:
            job = self.database.jobs.request_run(connection, name, now)  # locks the job
            queued = self.database.runs.queued_of(connection, name)
            if queued is not None and queued.parameters != overrides:
                raise TriggerPending(
                    f"parameters: run {queued.id} of {name!r} is queued with other "
                    "parameters; wait until it starts, or stop it first"
                )
            joined = queued is not None
            run_id = queued.id if queued is not None else self._queue(connection, job, overrides)
            self.activity.note(
                "triggered",
                "job",
                name,
                after={"run": run_id, "queued_behind": job.claimed_by, "parameters": overrides},
                connection=connection,
            )
        send_wakeup(self.database.engine)  # after the commit: the daemon starts it at once
        run = self.database.runs.get(run_id)
        assert run is not None
        return Queued(job, run, joined)

    def check_parameters(self, name: str, parameters: dict[str, Any]) -> None:
        """InvalidInput when a trigger's `parameters` do not fit job `name` (before queuing
        runs of several jobs, so that none is queued when one would be refused)."""
        self._check_overrides(self.database.jobs.get(name), parameters)

    def _check_overrides(self, job: Job, overrides: dict[str, Any]) -> None:
        """The job's definition with a trigger's parameters merged over its own, validated."""
        merged = {**job.spec.parameters, **overrides}
        self.validate(dataclasses.replace(job.spec, parameters=merged))

    def _queue(self, connection: Connection, job: Job, overrides: dict[str, Any] | None) -> int:
        """Insert the pending run a trigger asked for (in the trigger's transaction)."""
        return self.database.runs.queue(
            connection,
            job_id=job.id,
            job_name=job.name,
            job_type=job.spec.type,
            parameters=overrides,
            now=self.clock.now(),
        )

    def next_start(self, job: Job) -> datetime | None:
        """When a runner will next start `job` (services/starts.py says how)."""
        return next_start(job, self.periods, self.clock.now())

    def upcoming(self, job: Job, count: int) -> list[datetime]:
        """The next `count` start times, assuming instant runs, honouring the time period.

        An hourly job in a 09:00-17:00 period due at 16:00 yields 16:00, then (17:00 is
        outside) 09:00 next morning, 10:00, …
        """
        schedule = self.schedule(job.spec)
        if schedule is None:
            return []
        period = None
        if job.spec.timeperiod and self.periods is not None:
            period = self.periods.period(job.spec.timeperiod)
        now = self.clock.now()
        candidate: datetime | None = job.next_due_at or first_due(schedule, now)
        if candidate is not None and candidate < now:
            candidate = now
        times: list[datetime] = []
        for _ in range(MAX_LOOKAHEAD_STEPS):
            if candidate is None or len(times) >= count:
                break
            if period is not None and not period.contains(candidate):
                candidate = period.next_transition(candidate)
                continue
            times.append(candidate)
            candidate = schedule.next_after(candidate)
        return times

    def apply(
        self,
        specs: Sequence[JobSpec],
        *,
        prune: bool,
        dry_run: bool,
        periods: Sequence[PeriodSpec] = (),
        sources: Sequence[SourceSpec] = (),
        rules: Sequence[RuleSpec] = (),
    ) -> ApplyReport:
        """Make the stored definitions match the file, in one transaction.

        Order: periods, import sources, sync rules, jobs, so that each may refer to what
        the same file defines. With `prune`, what the file does not define is deleted
        (jobs, then rules, then sources, then periods); a period or source still in use
        by something that stays makes the whole apply fail.
        """
        seen: set[str] = set()
        for spec in specs:
            if spec.name in seen:
                raise InvalidInput("name", spec.name, "defined twice in the file")
            seen.add(spec.name)
        report = ApplyReport()
        now = self.clock.now()
        imports = ImportService(self.database.engine, self.clock)
        sync = SyncService(self.database.engine, self.clock)
        with self.database.engine.begin() as connection:
            before = snapshot(self.database, connection)
            known_periods = self._apply_periods(connection, periods, prune, now, report)
            if sources:
                changes = report.imports
                changes.created, changes.updated, changes.unchanged = imports.apply_in(
                    connection, sources, now
                )
            if rules:  # after the sources: a rule must name one
                changes = report.sync_rules
                changes.created, changes.updated, changes.unchanged = sync.apply_in(
                    connection, rules, now
                )
            known = KnownNames(
                known_periods,
                {s.name for s in sources}
                if prune
                else {s.name for s in imports.store.sources(connection)},
                {r.name for r in rules} if prune else {r.name for r in sync.rules.all(connection)},
            )
            specs = [self._validate_in_file(spec, known) for spec in specs]
            existing = self._apply_jobs(connection, specs, now, report.jobs, dry_run)
            if prune:
                stale = [job for name, job in sorted(existing.items()) if name not in seen]
                self._prune(connection, stale, report.jobs, dry_run)
                report.sync_rules.deleted = sync.prune_in(connection, keep={r.name for r in rules})
                report.imports.deleted = imports.prune_in(
                    connection, keep={s.name for s in sources}
                )
                assert self.periods is not None
                report.timeperiods.deleted = self.periods.prune_in(connection, keep=known_periods)
            if dry_run:
                connection.rollback()
            else:
                self.activity.differences(before, snapshot(self.database, connection), connection)
        if not dry_run:
            send_wakeup(self.database.engine)
        return report

    def _apply_jobs(
        self,
        connection: Connection,
        specs: Sequence[JobSpec],
        now: datetime,
        changes: Changes,
        dry_run: bool,
    ) -> dict[str, Job]:
        """Insert or replace the file's (validated) jobs; return the jobs stored before."""
        jobs = self.database.jobs
        existing = {job.name: job for job in jobs.all(connection)}

        def insert(spec: JobSpec) -> None:
            if not dry_run:
                jobs.insert(connection, spec, now, first_due(self.schedule(spec), now))

        def replace(job: Job, spec: JobSpec) -> None:
            if not dry_run:
                jobs.replace(connection, job, spec, now, self._next_due(job, spec, now))

        changes.created, changes.updated, changes.unchanged = upsert_by_name(
            specs,
            existing,
            insert=insert,
            replace=replace,
            unchanged=lambda job, spec: job.spec == spec,
        )
        return existing

    def _validate_in_file(self, spec: JobSpec, known: KnownNames) -> JobSpec:
        """Validate one job of a file; errors name it (`jobs.NAME.field`), as parse errors do."""
        where = f"jobs.{spec.name}"
        try:
            return self.validate(spec, known)
        except InvalidInput as exc:
            field = where if exc.field == "name" else f"{where}.{exc.field}"
            raise InvalidInput(field, exc.value, exc.expected) from None
        except UnknownJobType as exc:
            raise UnknownJobType(f"{where}.{exc}") from None

    def _apply_periods(
        self,
        connection: Connection,
        periods: Sequence[PeriodSpec],
        prune: bool,
        now: datetime,
        report: ApplyReport,
    ) -> set[str]:
        """Write the file's periods first; return the period names jobs may refer to."""
        known = {p.name for p in self.database.periods.all(connection)}
        if not periods and not prune:
            return known
        if self.periods is None:
            raise InvalidInput("timeperiods", len(periods), "time periods are unavailable")
        names = [p.name for p in periods]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise InvalidInput("timeperiods", duplicate, "defined twice in the file")
        (
            report.timeperiods.created,
            report.timeperiods.updated,
            report.timeperiods.unchanged,
        ) = self.periods.apply_in(connection, periods, now)
        return set(names) if prune else known | set(names)

    def _prune(
        self, connection: Connection, stale: list[Job], changes: Changes, dry_run: bool
    ) -> None:
        """Delete jobs that the applied file no longer defines (none may be running)."""
        for job in stale:
            if job.claimed_by:
                raise JobAlreadyRunning(
                    f"job: {job.name!r} is running on {job.claimed_by}; cannot prune it now"
                )
            changes.deleted.append(job.name)
            if not dry_run:
                self.database.jobs.delete_in(connection, job.id)
                self._end_queued(connection, job.name, "deleted")


def _reject_nested_nulls(value: object, field: str) -> None:
    """Nulls inside parameters cannot be written to TOML definitions: refuse them."""
    if value is None:
        raise InvalidInput(field, None, "null cannot be stored here; leave the key out")
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_nested_nulls(item, f"{field}.{key}")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _reject_nested_nulls(item, f"{field}[{position}]")
