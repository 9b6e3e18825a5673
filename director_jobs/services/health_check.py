"""The runner judged as a monitoring plugin reports it: `director health check`.

Monitoring Plugins conventions: a state OK/WARNING/CRITICAL/UNKNOWN (exit 0/1/2/3), one
status line with perfdata after `|`, then one line per finding. Never-run jobs are not
failures (Director's check raises false alarms on those, Director #1991).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from director_jobs.clock import Clock
from director_jobs.cluster.registry import alive
from director_jobs.db.database import Database
from director_jobs.db.runners_repo import RunnerInfo
from director_jobs.errors import InvalidInput
from director_jobs.model import Job, RunSummary, Trigger
from director_jobs.schedule import IntervalSchedule, schedule_of
from director_jobs.services.starts import PeriodLookup, next_start

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
CHECKS = ("jobs", "runner", "database")
RUNNER_MODES = ("forever", "oneshot")
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


class HealthCheck:
    """Reads jobs, their last runs and the runners, and judges them; writes nothing."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        periods: PeriodLookup,
        default_timezone: str,
        options: CheckOptions,
    ) -> None:
        self.database = database
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
            self.database.schema_revision()  # raises when unreachable; the CLI says so
            report.summary.append("database reachable")
        if "jobs" in self.options.checks:
            self._check_jobs(report, now)
        if "runner" in self.options.checks:
            self._check_runner(report, now)
        return report

    # -- jobs ------------------------------------------------------------------------------

    def _all_jobs(self) -> list[Job]:
        """Every job, read once per check."""
        if self._jobs is None:
            self._jobs = self.database.jobs.all()
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
        last = self.database.runs.latest_by_job(names) if jobs else {}
        running = {r.run.job_name: r.run for r in self.database.runs.running()}
        failed = overdue = 0
        for job in jobs:
            run = last.get(job.name)
            if run is not None and run.status.failed and not job.spec.disabled:
                failed += 1
                report.findings.append(self._failure(job, run))
            late = self._lateness(job, now)
            if late is not None:
                overdue += 1
                report.findings.append(
                    Finding(WARNING, f"job {job.name}: overdue, due {_age(late)} ago")
                )
            current = running.get(job.name)
            if current is not None and current.started_at is not None:
                elapsed = (now - current.started_at).total_seconds()
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

    def _lateness(self, job: Job, now: datetime) -> float | None:
        """Seconds a job is overdue by, or None: late beyond `overdue_factor` intervals.

        The start is where its time period lets it (a job waiting for its period is not
        late); a running, disabled, manual-only or never-scheduled job never is.
        """
        if job.claimed_by or job.spec.disabled:
            return None
        spec = job.spec
        schedule = schedule_of(spec.interval, spec.cron, spec.timezone, self.default_timezone)
        start = next_start(job, self.periods, now)
        if schedule is None or start is None or start >= now:
            return None
        if isinstance(schedule, IntervalSchedule):
            slot = schedule.seconds
        else:  # cron: the gap between the slot it is due for and the next one
            following = schedule.next_after(start)
            slot = (following - start).total_seconds() if following else float("inf")
        late = (now - start).total_seconds()
        return late if late > self.options.overdue_factor * slot else None

    # -- runner ----------------------------------------------------------------------------

    def _check_runner(self, report: Report, now: datetime) -> None:
        """A live --forever runner with a fresh heartbeat, or a recent one-shot run."""
        o = self.options
        everyone = self.database.runners.all()
        if o.runner_mode == "forever":
            forever = [r for r in everyone if r.mode == "forever"]
            living = [r for r in forever if alive(r, now)]  # one read of the runners table
            candidates = living or [r for r in forever if not r.stopped_at]
            age = _freshest(candidates, now, lambda r: r.heartbeat_at)
            what, never = "heartbeat", "no runner has run with --forever"
        else:
            mine = [r for r in everyone if r.mode != "forever"]
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


def _freshest(
    runners: list[RunnerInfo], now: datetime, when: Callable[[RunnerInfo], datetime]
) -> float | None:
    """Seconds since the newest of `when(runner)` among `runners`, None when there are none."""
    return min(((now - when(r)).total_seconds() for r in runners), default=None)


def _age(seconds: float) -> str:
    """A duration in the unit a person reads at a glance: 45s, 12m, 3h, 2d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"
