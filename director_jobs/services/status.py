"""How the installation is doing: the facts behind `director status` and `GET /health`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from director_jobs.clock import Clock
from director_jobs.cluster.registry import STALE_AFTER, live_runners
from director_jobs.db.database import Database
from director_jobs.db.runners_repo import RunnerInfo
from director_jobs.errors import DatabaseUnavailable


@dataclass(frozen=True)
class Summary:
    """The jobs and runners at a glance."""

    runners: list[RunnerInfo]  # alive now, --forever ones first
    jobs: int
    disabled: int
    running: int
    failed: list[str]  # jobs whose last run failed, by name
    next_job: tuple[str, datetime] | None  # the job due first and when


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

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def live_runners(self) -> list[RunnerInfo]:
        """The runners alive now, --forever ones first."""
        return live_runners(self.database.runners, self.clock.now())

    def summary(self) -> Summary:
        """Counts of jobs, the failed ones, the next due, and the live runners."""
        jobs = self.database.jobs.all()
        last = self.database.runs.latest_by_job()
        return Summary(
            runners=self.live_runners(),
            jobs=len(jobs),
            disabled=sum(1 for j in jobs if j.spec.disabled),
            running=sum(1 for j in jobs if j.claimed_by),
            failed=sorted(name for name, run in last.items() if run.status.failed),
            next_job=self.database.jobs.next_due(),
        )

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
