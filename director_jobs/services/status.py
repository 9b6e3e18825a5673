"""How the installation is doing: the facts behind `director status` and `GET /health`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError

from director_jobs.clock import Clock
from director_jobs.cluster.registry import STALE_AFTER, live_runners
from director_jobs.db.database import Database
from director_jobs.db.runners_repo import RunnerInfo
from director_jobs.errors import DatabaseUnavailable
from director_jobs.model import Job, RunSummary, Trigger
from director_jobs.services.health_check import CheckOptions, lateness
from director_jobs.services.starts import PeriodLookup, next_start

# How many upcoming starts `director status` lists.
NEXT_STARTS = 5


@dataclass(frozen=True)
class RunningNow:
    """A run in progress: its job, its runner, and for how long it has run."""

    job: str
    run_id: int
    runner: str | None
    started_at: datetime | None
    elapsed: float | None  # seconds
    progress: str | None = None  # the newest progress it reported (`40% copying`)


@dataclass(frozen=True)
class Failure:
    """A job whose last run failed, with the first line of why."""

    job: str
    run: RunSummary
    error: str  # the error's first line, else `exit code N`, else ""
    retry_pending: bool


@dataclass(frozen=True)
class Overdue:
    """A job that should have started by now (health check's rule), and since when."""

    job: str
    due_since: datetime
    late: float  # seconds


@dataclass(frozen=True)
class Summary:
    """The jobs and runners at a glance."""

    runners: list[RunnerInfo]  # alive now, --forever ones first
    jobs: int
    disabled: int
    running: int
    failed: list[str]  # jobs whose last run failed, by name
    next_job: tuple[str, datetime] | None  # the job to start first and when (its period heeded)
    running_now: list[RunningNow]  # every run marked running, oldest first
    failures: list[Failure]  # by job name
    overdue: list[Overdue]  # the latest first
    next_starts: list[tuple[str, datetime]]  # the NEXT_STARTS soonest, one per job


@dataclass(frozen=True)
class Health:
    """ok, or degraded with the reasons; what a load balancer or a check asks."""

    database_reachable: bool
    runners: list[RunnerInfo]
    heartbeat_age: float | None  # seconds since the freshest heartbeat of a live runner
    reasons: list[str]

    @property
    def status(self) -> str:
        """ "ok" when nothing is wrong, "degraded" otherwise."""
        return "degraded" if self.reasons else "ok"


class StatusService:
    """Reads that say whether jobs are being run; nothing here writes."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        periods: PeriodLookup | None = None,
        default_timezone: str = "UTC",
    ) -> None:
        self.database = database
        self.clock = clock
        self.periods = periods  # without them, starts and lateness ignore time periods
        self.default_timezone = default_timezone

    def live_runners(self) -> list[RunnerInfo]:
        """The runners alive now, --forever ones first."""
        return live_runners(self.database.runners, self.clock.now())

    def summary(self) -> Summary:
        """The live runners and what they run, failed and overdue jobs, the next starts."""
        now = self.clock.now()
        listed = self.database.jobs.all_with_last_run()
        jobs = [job for job, _ in listed]
        failures = [_failure(job, run) for job, run in listed if run and run.status.failed]
        starts = sorted(
            ((job.name, start) for job in jobs if (start := self._start(job, now)) is not None),
            key=lambda pair: (pair[1], pair[0]),
        )
        return Summary(
            runners=self.live_runners(),
            jobs=len(jobs),
            disabled=sum(1 for j in jobs if j.spec.disabled),
            running=sum(1 for j in jobs if j.claimed_by),
            failed=[f.job for f in failures],
            next_job=starts[0] if starts else None,
            running_now=self._running_now(now),
            failures=failures,
            overdue=self._overdue(jobs, now),
            next_starts=starts[:NEXT_STARTS],
        )

    def _start(self, job: Job, now: datetime) -> datetime | None:
        """When a runner next starts `job`; None while it runs (its next slot comes after)."""
        return None if job.claimed_by else next_start(job, self.periods, now)

    def _running_now(self, now: datetime) -> list[RunningNow]:
        """The runs marked running, oldest first, with how long each has run."""
        found = [
            RunningNow(
                r.run.job_name,
                r.run.id,
                r.run.runner,
                r.run.started_at,
                # A run that began after `now` was read (the daemon started it meanwhile)
                # has run for no time yet, not for a negative one.
                None
                if r.run.started_at is None
                else max(0.0, (now - r.run.started_at).total_seconds()),
                r.run.progress,
            )
            for r in self.database.runs.running()
        ]
        return sorted(found, key=lambda r: r.run_id)

    def _overdue(self, jobs: list[Job], now: datetime) -> list[Overdue]:
        """The jobs late by the health check's default rule, the latest first."""
        factor = CheckOptions().overdue_factor
        found = []
        for job in jobs:
            late = lateness(job, self.periods, now, self.default_timezone, factor)
            if late is not None:
                found.append(Overdue(job.name, now - timedelta(seconds=late), late))
        return sorted(found, key=lambda o: (-o.late, o.job))

    def health(self) -> Health:
        """Whether the database answers and a runner is alive (and how fresh its heartbeat is)."""
        try:
            self.database.schema_revision()
            runners = self.live_runners()
        except (DatabaseUnavailable, DBAPIError):  # the reason only: errors may hold the URL
            return Health(False, [], None, ["database unreachable"])
        now = self.clock.now()
        age = min(((now - r.heartbeat_at).total_seconds() for r in runners), default=None)
        reasons = []
        if not runners:
            seconds = int(STALE_AFTER.total_seconds())
            reasons.append(f"no runner alive (no heartbeat in the last {seconds} s)")
        return Health(True, runners, age, reasons)


def _failure(job: Job, run: RunSummary) -> Failure:
    """A failed last run with the first line of its error (or its exit code)."""
    if run.error:
        error = run.error.splitlines()[0]
    else:
        error = "" if run.exit_code is None else f"exit code {run.exit_code}"
    return Failure(job.name, run, error, job.pending_trigger is Trigger.RETRY)
