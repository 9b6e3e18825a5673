"""The runner judged as a monitoring plugin reports it: `director health check`.

Monitoring Plugins conventions: a state OK/WARNING/CRITICAL/UNKNOWN (exit 0/1/2/3), one
status line with perfdata after `|`, then one line per finding. Never-run jobs are not
failures (Director's check raises false alarms on those, Director #1991).

Icinga starts it every minute on many hosts, so this module imports no SQLAlchemy: the
check reads through the repositories (DatabaseData) or, as the plugin does on SQLite and
PostgreSQL, on a plain driver connection (PlainData).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from director_jobs.clock import Clock
from director_jobs.errors import DatabaseUnavailable, DirectorJobsError, InvalidInput, NotFound
from director_jobs.identity import is_alive
from director_jobs.model import Job, JobSpec, RunStatus, RunSummary, Trigger
from director_jobs.schedule import IntervalSchedule, schedule_of
from director_jobs.services.starts import PeriodLookup, first_allowed_start
from director_jobs.validation import parse_duration

if TYPE_CHECKING:
    from director_jobs.db.database import Database
    from director_jobs.db.engine import PlainConnection
    from director_jobs.periods import TimePeriod

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
CHECKS = ("jobs", "runner", "database", "deployments")
RUNNER_MODES = ("forever", "oneshot")
# The options' defaults: cli/health.py shows them, options_from fills in the ones not given.
# `deployments` is asked for by those who deploy configuration with director-jobs.
DEFAULT_CHECKS = "jobs,runner,database"
DEFAULT_OVERDUE = "2x"
DEFAULT_RUNNER_MODE = RUNNER_MODES[0]
# Heartbeat age (seconds) that warns / is critical for a --forever runner: it beats every
# few seconds, so 30 s means missed beats and 120 s a runner that is gone.
FOREVER_AGE = (30.0, 120.0)
# Time since the last one-shot run (seconds) for cron set-ups: every minute or every few
# minutes is usual, so ten minutes without one warns and half an hour is critical.
ONESHOT_AGE = (600.0, 1800.0)


@dataclass(frozen=True)
class CheckOptions:
    """What to check and the limits; the CLI's options, already validated."""

    checks: Collection[str] = CHECKS
    jobs: Collection[str] = ()  # only these jobs (empty: every job)
    tags: Collection[str] = ()  # only jobs with one of these tags
    excluded: Collection[str] = ()
    overdue_factor: float = 2.0  # overdue after this many intervals (or cron slots)
    runner_mode: str = "forever"
    age_warning: float = FOREVER_AGE[0]
    age_critical: float = FOREVER_AGE[1]

    @property
    def filtered(self) -> bool:
        """True when --job, --tag or --exclude narrow the jobs checked."""
        return bool(self.jobs or self.tags or self.excluded)


@dataclass(frozen=True)
class Finding:
    """One thing found wrong (or worth saying), with the state it earns."""

    state: int
    text: str


@dataclass
class Report:
    """A plugin's answer: the worst state, a summary, the findings and perfdata."""

    summary: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    perfdata: list[str] = field(default_factory=list)

    @property
    def state(self) -> int:
        """The worst state of the findings (OK when there are none)."""
        return max((f.state for f in self.findings), default=OK)

    def text(self) -> str:
        """The plugin's output: status line with perfdata, then a line per finding."""
        summary = ", ".join(self.summary)
        head = f"DIRECTOR-JOBS {STATE_NAMES[self.state]} - {summary}"
        if self.perfdata:
            head += " | " + " ".join(self.perfdata)
        # Worst first; a finding that is the whole summary (UNKNOWN's reason) is not repeated.
        details = sorted((f for f in self.findings if f.text != summary), key=lambda f: -f.state)
        return "\n".join([head, *(f"{STATE_NAMES[f.state]}: {f.text}" for f in details)])


def unknown(reason: str) -> Report:
    """The report of a check that could not look (bad options, no database)."""
    return Report([reason], [Finding(UNKNOWN, reason)])


def options_from(
    *,
    checks: str = DEFAULT_CHECKS,
    jobs: Sequence[str] = (),
    tags: Sequence[str] = (),
    excluded: Sequence[str] = (),
    overdue: str = DEFAULT_OVERDUE,
    runner_mode: str = DEFAULT_RUNNER_MODE,
    warning_age: str | None = None,
    critical_age: str | None = None,
) -> CheckOptions:
    """The command line's option values checked and converted; InvalidInput naming the
    first bad one."""
    selected = [c.strip() for c in checks.split(",") if c.strip()]
    for name in selected or [checks]:
        if name not in CHECKS:
            raise InvalidInput("--check", name, f"known checks: {', '.join(CHECKS)}")
    if runner_mode not in RUNNER_MODES:
        raise InvalidInput("--runner-mode", runner_mode, "expected forever or oneshot")
    factor_text = overdue.removesuffix("x")
    try:
        factor = float(factor_text)
    except ValueError:
        factor = 0.0
    if not factor >= 1:  # also refuses nan
        raise InvalidInput("--overdue", overdue, "expected a factor of 1 or more, e.g. 2x")
    defaults = FOREVER_AGE if runner_mode == "forever" else ONESHOT_AGE
    warn = parse_duration(warning_age, "--warning") if warning_age else defaults[0]
    crit = parse_duration(critical_age, "--critical") if critical_age else defaults[1]
    if crit < warn:
        raise InvalidInput("--critical", critical_age, "shorter than --warning")
    return CheckOptions(
        checks=tuple(selected),
        jobs=tuple(jobs),
        tags=tuple(tags),
        excluded=tuple(excluded),
        overdue_factor=factor,
        runner_mode=runner_mode,
        age_warning=warn,
        age_critical=crit,
    )


def checked(options: CheckOptions, look: Callable[[], Report]) -> Report:
    """The report `look` makes, or the UNKNOWN one saying why it could not look; an
    unreachable database is CRITICAL when the database is among the checks."""
    try:
        return look()
    except InvalidInput as exc:
        return unknown(str(exc))
    except DatabaseUnavailable as exc:
        report = unknown(f"database unreachable: {exc}")
        if "database" in options.checks:
            report.findings[0] = Finding(CRITICAL, report.findings[0].text)
        return report
    except DirectorJobsError as exc:
        return unknown(str(exc))


class HealthCheck:
    """Reads jobs, their last runs and the runners, and judges them; writes nothing."""

    def __init__(
        self,
        data: HealthData,
        clock: Clock,
        periods: PeriodLookup,
        default_timezone: str,
        options: CheckOptions,
    ) -> None:
        self.data = data
        self.clock = clock
        self.periods = periods
        self.default_timezone = default_timezone
        self.options = options
        self._jobs: list[Job] | None = None

    def report(self) -> Report:
        """Run the selected checks (the database first: the others need it)."""
        report = Report()
        now = self.clock.now()
        if "database" in self.options.checks:
            self.data.reachable()  # raises when unreachable; `checked` says so
            report.summary.append("database reachable")
        if "jobs" in self.options.checks:
            self._check_jobs(report, now)
        if "runner" in self.options.checks:
            self._check_runner(report, now)
        if "deployments" in self.options.checks:
            self._check_deployments(report)
        return report

    def _check_deployments(self, report: Report) -> None:
        """The last deployment that deployed or failed (unchanged ones say nothing new)."""
        last = self.data.last_deployment()
        if last is None:
            report.summary.append("no deployment yet")  # never deployed is not a failure
            report.perfdata.append("deployment_failed=0")
            return
        if last.status == "failed":
            when = last.finished_at.strftime("%Y-%m-%d %H:%M:%S UTC")
            detail = f": {last.reason}" if last.reason else ""
            report.summary.append("last deployment failed")
            report.findings.append(
                Finding(
                    CRITICAL,
                    f"deployments: #{last.id} to {last.target} failed at {when}{detail}",
                )
            )
        else:
            report.summary.append("last deployment ok")
        report.perfdata.append(f"deployment_failed={int(last.status == 'failed')}")

    # -- jobs ------------------------------------------------------------------------------

    def _all_jobs(self) -> list[Job]:
        """Every job, read once per check."""
        if self._jobs is None:
            self._jobs = self.data.jobs()
        return self._jobs

    def refuse_unknown(self) -> None:
        """InvalidInput for a --job, --exclude or --tag that matches nothing: a typo must
        not turn into a check that checks nothing and says OK."""
        o = self.options
        if not o.filtered:
            return
        known = self._all_jobs()
        names = {job.name for job in known}
        for option, wanted in (("--job", o.jobs), ("--exclude", o.excluded)):
            for name in wanted:
                if name not in names:
                    raise InvalidInput(option, name, "no job has that name")
        tags = {tag for job in known for tag in job.spec.tags}
        for tag in o.tags:
            if tag not in tags:
                raise InvalidInput("--tag", tag, f"known tags: {', '.join(sorted(tags)) or 'none'}")

    def _selected(self, jobs: list[Job]) -> list[Job]:
        """The jobs the options name (all by default), without the excluded ones."""
        o = self.options
        return [
            j
            for j in jobs
            if (not o.jobs or j.name in o.jobs)
            and (not o.tags or set(j.spec.tags) & set(o.tags))
            and j.name not in o.excluded
        ]

    def _check_jobs(self, report: Report, now: datetime) -> None:
        """Failed last runs, pending retries, overdue jobs, runs past their timeout."""
        jobs = self._selected(self._all_jobs())
        # Unfiltered, the one statement for every job's last run (no list of 1,000 names).
        names = [j.name for j in jobs] if self.options.filtered else None
        last = self.data.last_runs(names) if jobs else {}
        running = dict(self.data.running())  # job name: when its run marked running began
        failed = overdue = 0
        for job in jobs:
            run = last.get(job.name)
            if run is not None and run.status.failed and not job.spec.disabled:
                failed += 1
                report.findings.append(self._failure(job, run))
            factor = self.options.overdue_factor
            late = lateness(job, self.periods, now, self.default_timezone, factor)
            if late is not None:
                overdue += 1
                report.findings.append(
                    Finding(WARNING, f"job {job.name}: overdue, due {_age(late)} ago")
                )
            started = running.get(job.name)
            if started is not None:
                elapsed = (now - started).total_seconds()
                if elapsed > job.spec.timeout:
                    report.findings.append(
                        Finding(
                            CRITICAL,
                            f"job {job.name}: running for {_age(elapsed)}, "
                            f"past its timeout of {_age(job.spec.timeout)}",
                        )
                    )
        report.summary += [f"{len(jobs)} job{'' if len(jobs) == 1 else 's'}", f"{failed} failed"]
        if overdue:
            report.summary.append(f"{overdue} overdue")
        report.perfdata += [
            f"jobs={len(jobs)}",
            f"failed={failed}",
            f"running={sum(1 for j in jobs if j.name in running)}",
            f"overdue={overdue}",
        ]

    @staticmethod
    def _failure(job: Job, run: RunSummary) -> Finding:
        """CRITICAL for a failed last run; WARNING while a retry of it is still to come."""
        if run.error:
            error = run.error.splitlines()[0]
        else:
            error = "" if run.exit_code is None else f"exit code {run.exit_code}"
        detail = f"last run {run.id} ended in {run.status.value}" + (f": {error}" if error else "")
        if job.pending_trigger is Trigger.RETRY:
            return Finding(WARNING, f"job {job.name}: {detail} (a retry is pending)")
        return Finding(CRITICAL, f"job {job.name}: {detail}")

    # -- runner ----------------------------------------------------------------------------

    def _check_runner(self, report: Report, now: datetime) -> None:
        """A live --forever runner with a fresh heartbeat, or a recent one-shot run."""
        o = self.options
        everyone = self.data.runners(now)  # one read of the runners table
        if o.runner_mode == "forever":
            forever = [(r, alive) for r, alive in everyone if r.mode == "forever"]
            living = [r for r, alive in forever if alive]
            candidates = living or [r for r, _ in forever if not r.stopped_at]
            age = _freshest(candidates, now, lambda r: r.heartbeat_at)
            what, never = "heartbeat", "no runner has run with --forever"
        else:
            mine = [r for r, _ in everyone if r.mode != "forever"]
            age = _freshest(mine, now, lambda r: r.stopped_at or r.heartbeat_at)
            what, never = "last one-shot run", "no one-shot run recorded"
        if age is None:
            report.summary.append("no runner alive" if o.runner_mode == "forever" else never)
            report.findings.append(Finding(CRITICAL, f"runner: {never}"))
            return
        state = CRITICAL if age > o.age_critical else WARNING if age > o.age_warning else OK
        if o.runner_mode == "forever":
            alive_text = "runner alive" if state == OK else "no runner alive"
            report.summary.append(f"{alive_text} (heartbeat {age:.0f}s)")
        else:
            report.summary.append(f"last one-shot run {_age(age)} ago")
        if state != OK:
            report.findings.append(Finding(state, f"runner: {what} {_age(age)} ago"))
        key = "heartbeat" if o.runner_mode == "forever" else "last_oneshot"
        report.perfdata.append(f"{key}={age:.0f}s;{o.age_warning:g};{o.age_critical:g}")


def lateness(
    job: Job, periods: PeriodLookup | None, now: datetime, default_timezone: str, factor: float
) -> float | None:
    """Seconds a job is overdue by, or None: late beyond `factor` intervals (or cron slots).

    The start is where its time period lets it (a job waiting for its period is not
    late); a running, disabled, manual-only or never-scheduled job never is. Shared by
    the health check and `director status`.
    """
    if job.claimed_by or job.spec.disabled:
        return None
    spec = job.spec
    schedule = schedule_of(spec.interval, spec.cron, spec.timezone, default_timezone)
    # Since when it could have started: its due time, or its period's next opening after
    # it (not next_start, which is never before now and so would never be late).
    start = first_allowed_start(job, periods)
    if schedule is None or start is None or start >= now:
        return None
    if isinstance(schedule, IntervalSchedule):
        slot = schedule.seconds
    else:  # cron: the gap between the slot it is due for and the next one
        following = schedule.next_after(start)
        slot = (following - start).total_seconds() if following else float("inf")
    late = (now - start).total_seconds()
    return late if late > factor * slot else None


def _freshest(
    runners: list[RunnerRecord], now: datetime, when: Callable[[RunnerRecord], datetime]
) -> float | None:
    """Seconds since the newest of `when(runner)` among `runners`, None when there are none."""
    return min(((now - when(r)).total_seconds() for r in runners), default=None)


def _age(seconds: float) -> str:
    """A duration in the unit a person reads at a glance: 45s, 12m, 3h, 2d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


# -- what the check reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class LastDeployment:
    """The newest deployment that deployed or failed."""

    id: int
    target: str
    status: str
    finished_at: datetime
    reason: str  # the first non-empty line of its output (icinga2's complaint), or ""


def _first_line(output: str | None) -> str:
    """The first non-empty line of a deployment's output, cut to 200 characters."""
    for line in (output or "").splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


# Unchanged and skipped deployments are not news: the last one that deployed or failed is.
_LAST_DEPLOYMENT = (
    "SELECT deployments.id, deployments.target, deployments.status, deployments.finished_at,"
    " deployments.output FROM deployments"
    " WHERE deployments.status IN ('deployed', 'failed')"
    " ORDER BY deployments.id DESC LIMIT 1"
)


class RunnerRecord(Protocol):
    """A registered runner as the check reads it (db/runners_repo.py's RunnerInfo)."""

    @property
    def mode(self) -> str: ...

    @property
    def heartbeat_at(self) -> datetime: ...

    @property
    def stopped_at(self) -> datetime | None: ...


class HealthData(Protocol):
    """The reads of a check: DatabaseData, or PlainData for the plugin."""

    def reachable(self) -> None:
        """Return when the database answers; DatabaseUnavailable when it does not."""

    def jobs(self) -> list[Job]:
        """Every job, by name."""

    def last_runs(self, names: list[str] | None) -> dict[str, RunSummary]:
        """The newest finished run of each job of `names` (None: of every job)."""

    def running(self) -> list[tuple[str, datetime | None]]:
        """The job and start of each run marked running."""

    def last_deployment(self) -> LastDeployment | None:
        """The newest deployment that deployed or failed (None: none did)."""

    def runners(self, now: datetime) -> list[tuple[RunnerRecord, bool]]:
        """Every registered runner, the most recently alive first, and whether it is alive."""


class DatabaseData:
    """The check's reads through the repositories: any database Database.open can open."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def reachable(self) -> None:
        """Read the schema revision: DatabaseUnavailable when the server cannot be reached."""
        self.database.schema_revision()

    def jobs(self) -> list[Job]:
        """Every job, by name."""
        return self.database.jobs.all()

    def last_runs(self, names: list[str] | None) -> dict[str, RunSummary]:
        """The newest finished run of each job of `names` (None: of every job)."""
        return self.database.runs.latest_by_job(names)

    def running(self) -> list[tuple[str, datetime | None]]:
        """The job and start of each run marked running."""
        return [(r.run.job_name, r.run.started_at) for r in self.database.runs.running()]

    def last_deployment(self) -> LastDeployment | None:
        """The newest deployment that deployed or failed."""
        from sqlalchemy import select

        from director_jobs.db.schema import deployments as table

        query = (
            select(table.c.id, table.c.target, table.c.status, table.c.finished_at, table.c.output)
            .where(table.c.status.in_(("deployed", "failed")))
            .order_by(table.c.id.desc())
            .limit(1)
        )
        with self.database.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return LastDeployment(row[0], row[1], row[2], row[3], _first_line(row[4]))

    def runners(self, now: datetime) -> list[tuple[RunnerRecord, bool]]:
        """Every registered runner, the most recently alive first, and whether it is alive."""
        from director_jobs.cluster.registry import alive

        return [(r, alive(r, now)) for r in self.database.runners.all()]


# cluster/registry.py's STALE_AFTER (it imports SQLAlchemy, so PlainData cannot import it):
# a runner that missed about three heartbeats is gone. Keep the two equal.
_STALE_AFTER = timedelta(seconds=35)
# runs_repo.UNFINISHED: runs that have not ended (or never started), no job's last run.
_UNFINISHED = ", ".join(
    f"'{s.value}'" for s in (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.SKIPPED)
)
# The statements the repositories run for the check, as SQLAlchemy compiles them for SQLite
# and PostgreSQL alike; of runs and runners, only the columns the check reads.
_JOBS = (
    "SELECT jobs.id, jobs.name, jobs.type, jobs.parameters, jobs.interval_seconds, jobs.cron,"
    " jobs.timezone, jobs.timeperiod, jobs.disabled, jobs.timeout_seconds, jobs.retries,"
    " jobs.retry_delay_seconds, jobs.tags, jobs.description, jobs.confirm,"
    " jobs.memory_limit_mib, jobs.created_at, jobs.updated_at, jobs.last_attempt_at,"
    " jobs.next_due_at, jobs.attempt, jobs.pending_trigger, jobs.claimed_by"
    " FROM jobs ORDER BY jobs.name"
)
# runs_repo's last runs: per job, a walk of ix_runs_job_name_id back to its newest finished
# run; then that run by its id. Joined on the walk itself (as runs_repo does), PostgreSQL
# hashes all 100,000 runs first (130 ms, not 15); a derived table it may not merge into the
# join ({fence}: OFFSET 0) keeps it to 1,000 look-ups. {where}: the jobs asked for.
_LAST_RUNS = (
    'SELECT newest.name, last.id, last.status, last."trigger", last.started_at,'
    " last.finished_at, last.duration_seconds, last.exit_code, last.error"
    " FROM (SELECT jobs.name AS name, (SELECT newer.id FROM runs AS newer"
    f" WHERE newer.job_name = jobs.name AND (newer.status NOT IN ({_UNFINISHED}))"
    " AND newer.started_at IS NOT NULL ORDER BY newer.id DESC LIMIT 1) AS id"
    " FROM jobs{where}{fence}) AS newest JOIN runs AS last ON last.id = newest.id"
)
_RUNNING = (
    "SELECT runs.job_name, runs.started_at FROM runs"
    f" WHERE runs.status = '{RunStatus.RUNNING.value}'"
)
_RUNNERS = (
    "SELECT runners.mode, runners.host, runners.pid, runners.process_start,"
    " runners.heartbeat_at, runners.stopped_at FROM runners ORDER BY runners.heartbeat_at DESC"
)
_PERIODS = (
    "SELECT time_periods.name, time_periods.display_name, time_periods.ranges,"
    " time_periods.includes, time_periods.excludes, time_periods.prefer_includes,"
    " time_periods.timezone FROM time_periods ORDER BY time_periods.name"
)


@dataclass(frozen=True)
class _Runner:
    """A row of the runners table, as much of it as liveness and the check read."""

    mode: str
    host: str
    pid: int
    process_start: float | None
    heartbeat_at: datetime
    stopped_at: datetime | None


class PlainData:
    """The check's reads on a plain driver connection (db/engine.py's plain_connection),
    for the plugin: the repositories' statements, their rows made into the same records.

    Mirrors jobs_repo.job_from_row, runs_repo.summary_from_row, registry.alive and
    PeriodService.period, which cannot be imported without SQLAlchemy; the plugin's tests
    run through here. Statements raise the driver's Error (plain.driver.Error).
    """

    def __init__(self, plain: PlainConnection, default_timezone: str) -> None:
        self.plain = plain
        self.default_timezone = default_timezone
        self._periods: dict[str, TimePeriod] | None = None

    def reachable(self) -> None:
        """Nothing to do: plain_connection has read the schema revision."""

    def jobs(self) -> list[Job]:
        """Every job, by name."""
        json, instant, maybe = self.plain.json, self.plain.instant, self.plain.optional_instant
        return [
            Job(
                id=r[0],
                spec=JobSpec(
                    name=r[1],
                    type=r[2],
                    parameters=dict(json(r[3]) or {}),
                    interval=r[4],
                    cron=r[5],
                    timezone=r[6],
                    timeperiod=r[7],
                    disabled=bool(r[8]),
                    timeout=r[9],
                    retries=r[10],
                    retry_delay=r[11],
                    tags=tuple(json(r[12]) or ()),
                    description=r[13] or "",
                    confirm=bool(r[14]),
                    memory_limit=r[15],
                ),
                created_at=instant(r[16]),
                updated_at=instant(r[17]),
                last_attempt_at=maybe(r[18]),
                next_due_at=maybe(r[19]),
                attempt=r[20],
                pending_trigger=Trigger(r[21]) if r[21] else None,
                claimed_by=r[22],
            )
            for r in self.plain.rows(_JOBS)
        ]

    def last_runs(self, names: list[str] | None) -> dict[str, RunSummary]:
        """The newest finished run of each job of `names` (None: of every job)."""
        where = ""
        if names is not None:
            where = f" WHERE jobs.name IN ({', '.join([self.plain.mark] * len(names))})"
        fence = "" if self.plain.dialect == "sqlite" else " OFFSET 0"  # SQLite walks anyway
        statement, values = _LAST_RUNS.format(where=where, fence=fence), names or []
        maybe = self.plain.optional_instant
        return {
            r[0]: RunSummary(
                id=r[1],
                status=RunStatus(r[2]),
                trigger=Trigger(r[3]),
                started_at=maybe(r[4]),
                finished_at=maybe(r[5]),
                duration=r[6],
                exit_code=r[7],
                error=r[8],
            )
            for r in self.plain.rows(statement, values)
        }

    def running(self) -> list[tuple[str, datetime | None]]:
        """The job and start of each run marked running."""
        return [(r[0], self.plain.optional_instant(r[1])) for r in self.plain.rows(_RUNNING)]

    def last_deployment(self) -> LastDeployment | None:
        """The newest deployment that deployed or failed."""
        rows = self.plain.rows(_LAST_DEPLOYMENT)
        if not rows:
            return None
        id_, target, status, finished_at, output = rows[0]
        return LastDeployment(
            id_, target, status, self.plain.instant(finished_at), _first_line(output)
        )

    def runners(self, now: datetime) -> list[tuple[RunnerRecord, bool]]:
        """Every registered runner, the most recently alive first, and whether it is alive
        as registry.alive judges it: beating, and on this host also a live process."""
        instant, maybe = self.plain.instant, self.plain.optional_instant
        found: list[tuple[RunnerRecord, bool]] = []
        for mode, host, pid, process_start, heartbeat_at, stopped_at in self.plain.rows(_RUNNERS):
            runner = _Runner(
                mode, host, pid, process_start, instant(heartbeat_at), maybe(stopped_at)
            )
            beating = runner.stopped_at is None and now - runner.heartbeat_at <= _STALE_AFTER
            found.append((runner, beating and is_alive(host, pid, process_start) is not False))
        return found

    def period(self, name: str) -> TimePeriod:
        """The time period `name` (NotFound when undefined), all of them read on first use."""
        if self._periods is None:
            from director_jobs.periods import PeriodDefinition, resolve_periods

            json = self.plain.json
            self._periods = resolve_periods(
                {
                    r[0]: PeriodDefinition(
                        display_name=r[1],
                        ranges=dict(json(r[2]) or {}),
                        includes=tuple(json(r[3]) or ()),
                        excludes=tuple(json(r[4]) or ()),
                        prefer_includes=bool(r[5]),
                        timezone=r[6] or self.default_timezone,
                    )
                    for r in self.plain.rows(_PERIODS)
                }
            )
        try:
            return self._periods[name]
        except KeyError:
            raise NotFound(f"timeperiod: no time period named {name!r}") from None
