"""Runs as the CLI and the API show them: one run, a job's history, and pages of runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.errors import NotFound, NotRunning
from director_jobs.model import Run, RunStatus
from director_jobs.services.activity import ActivityLog
from director_jobs.services.paging import check_limit, cursor_id

# A page holds at most this many runs: enough for a screen, small enough to stay fast.
MAX_PAGE = 1000


@dataclass(frozen=True)
class RunQuery:
    """Which runs to list (None: any), newest first; `cursor` continues a previous page."""

    job: str | None = None
    status: RunStatus | None = None
    since: datetime | None = None
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class RunPage:
    """One page of runs and the cursor of the next one (None on the last page)."""

    runs: list[Run]
    next_cursor: str | None


class RunService:
    """Reads of the run history, and stop requests for runs in progress."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def stop(self, run_id: int, by: str) -> Run:
        """Ask the runner that holds the run to kill its job and record it stopped by `by`.

        The runner looks for requests while the job runs (every half second) and kills
        the job's cgroup or process tree; this returns once the request is stored.
        """
        run = self.get(run_id)
        if not self._request(run, by):
            state = run.status.value
            raise NotRunning(f"run: {run_id} of {run.job_name!r} is {state}, not running")
        return self.get(run_id)

    def stop_job(self, name: str, by: str) -> Run:
        """Stop the run of job `name` in progress (see `stop`)."""
        self.database.jobs.get(name)  # an unknown name is NotFound, not "not running"
        run = self.database.runs.running_of(name)
        if run is None or not self._request(run, by):
            raise NotRunning(f"job: {name!r} is not running")
        return self.get(run.id)

    def _request(self, run: Run, by: str) -> bool:
        asked = self.database.runs.request_stop(run.id, by, self.clock.now())
        if asked:
            log = ActivityLog(self.database, self.clock, by)
            log.note("stopped", "run", str(run.id), after={"job": run.job_name})
        return asked

    def get(self, run_id: int) -> Run:
        """One run by id (NotFound names it)."""
        run = self.database.runs.get(run_id)
        if run is None:
            raise NotFound(f"run: no run with id {run_id}")
        return run

    def history(self, job_name: str | None, limit: int) -> list[Run]:
        """The newest `limit` runs of one job (which must exist) or of all."""
        runs = self.database.runs.history(job_name, limit)
        if job_name is not None and not runs:
            self.database.jobs.get(job_name)  # an unknown name is an error, not an empty list
        return runs

    def page(self, query: RunQuery) -> RunPage:
        """A page of runs, newest first; the cursor is the id the next page starts below."""
        check_limit(query.limit, MAX_PAGE)
        before = cursor_id(query.cursor)
        if query.job is not None:
            self.database.jobs.get(query.job)
        runs = self.database.runs.page(
            job_name=query.job,
            status=query.status,
            since=query.since,
            before_id=before,
            limit=query.limit + 1,  # one more tells whether a next page exists
        )
        more = len(runs) > query.limit
        runs = runs[: query.limit]
        return RunPage(runs, str(runs[-1].id) if more else None)
