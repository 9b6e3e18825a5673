"""Runs as the CLI and the API show them: one run, a job's history, and pages of runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.db.notifications_repo import Delivery
from director_jobs.errors import NotFound, NotRunning
from director_jobs.model import Run, RunStatus, Trigger
from director_jobs.output import stored_lines
from director_jobs.schedule import due_by_schedule, schedule_of
from director_jobs.services.activity import ActivityLog
from director_jobs.services.paging import check_limit, cursor_id

# A page holds at most this many runs: enough for a screen, small enough to stay fast.
MAX_PAGE = 1000

# How often a follower of a running job's output reads it again: the runner saves it at
# most every 0.5 s (cluster/live_output.py), so a line shows within about 0.75 s.
FOLLOW_POLL_SECONDS = 0.25

# A trigger's activity entry is written in the transaction that queues its run, so it lies
# between the run's due time and its start; the margin only absorbs clock rounding.
TRIGGER_ENTRY_MARGIN = timedelta(minutes=1)


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


@dataclass(frozen=True)
class LogChunk:
    """The output lines of a run that a follower has not seen yet, and the run as it is now."""

    run: Run
    lines: list[str]
    first: int  # the number (1-based) of lines[0]
    missed: int  # lines the 64 KiB tail dropped before the follower read them
    seen: int  # what the follower has seen after this chunk (its next `seen`)

    @property
    def ended(self) -> bool:
        """True once the run is over: no more lines will come."""
        return self.run.status not in (RunStatus.PENDING, RunStatus.RUNNING)


class RunService:
    """Reads of the run history, and stop requests for runs in progress."""

    def __init__(self, database: Database, clock: Clock, default_timezone: str = "UTC") -> None:
        self.database = database
        self.clock = clock
        self.default_timezone = default_timezone  # of cron schedules without their own

    def stop(self, run_id: int, by: str) -> Run:
        """Ask the runner that holds the run to kill its job and record it stopped by `by`.

        The runner looks for requests while the job runs (every half second) and kills
        the job's cgroup or process tree; this returns once the request is stored. A run
        a trigger queued that has not started is cancelled at once.
        """
        run = self.get(run_id)
        if run.status is RunStatus.PENDING and self._cancel(run, by):
            return self.get(run_id)
        if not self._request(run, by):
            state = run.status.value
            raise NotRunning(f"run: {run_id} of {run.job_name!r} is {state}, not running")
        return self.get(run_id)

    def stop_job(self, name: str, by: str) -> Run:
        """Stop the run of job `name` in progress (see `stop`), else cancel its queued run."""
        self.database.jobs.get(name)  # an unknown name is NotFound, not "not running"
        run = self.database.runs.running_of(name)
        if run is not None and self._request(run, by):
            return self.get(run.id)
        with self.database.engine.connect() as connection:
            queued = self.database.runs.queued_of(connection, name)
        if queued is not None and self._cancel(queued, by):
            return self.get(queued.id)
        raise NotRunning(f"job: {name!r} is not running")

    def _cancel(self, run: Run, by: str) -> bool:
        """End a queued run before it starts, and forget the trigger that asked for it.

        The job's row is written first, as a runner's claim and a trigger do, so that
        the three take their locks in one order (PostgreSQL and MySQL would otherwise
        deadlock a cancel against a claim).
        """
        now = self.clock.now()
        with self.database.engine.begin() as connection:
            try:
                job = self.database.jobs.get(run.job_name, connection)
            except NotFound:  # deleted meanwhile: only the run is left to end
                job = None
            if job is not None:
                spec = job.spec
                zone = spec.timezone
                schedule = schedule_of(spec.interval, spec.cron, zone, self.default_timezone)
                due = due_by_schedule(schedule, job.last_attempt_at, now)
                self.database.jobs.cancel_trigger(connection, job, due)
            closed = self.database.runs.close_queued(
                connection,
                run.job_name,
                run_id=run.id,
                status=RunStatus.STOPPED,
                error=f"cancelled by {by} before it started",
                now=now,
                stopped_by=by,
            )
            if not closed:  # a runner started it meanwhile: stop it instead
                connection.rollback()
                return False
            log = ActivityLog(self.database, self.clock, by)
            log.note(
                "cancelled", "run", str(run.id), after={"job": run.job_name}, connection=connection
            )
        return True

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

    def triggered_by(self, run: Run) -> list[str]:
        """Who asked for a manual run (several when later triggers joined it), from the
        activity log; empty for other runs and for `jobs run NAME`, which logs none."""
        if run.trigger is not Trigger.MANUAL or run.scheduled_for is None:
            return []
        until = (run.started_at or self.clock.now()) + TRIGGER_ENTRY_MARGIN
        entries = self.database.activity.triggers_of(
            run.job_name, run.scheduled_for - TRIGGER_ENTRY_MARGIN, until
        )
        actors = [
            e.actor for e in entries if isinstance(e.after, dict) and e.after.get("run") == run.id
        ]
        return list(dict.fromkeys(actors))  # each once, first asker first

    def notifications(self, run_id: int) -> list[Delivery]:
        """How the notifications about a run went, oldest first."""
        return self.database.notifications.for_runs([run_id])

    def log(self, run_id: int, seen: int = 0) -> LogChunk:
        """The output of a run after its first `seen` lines (all of it with 0)."""
        run = self.get(run_id)
        stored = stored_lines(run.output, run.output_lines)
        lines, missed = stored.after(seen)
        first = max(seen + 1, stored.first)
        total = max(run.output_lines, stored.first - 1 + len(stored.lines))  # 0 before 0009
        return LogChunk(run, lines, first, missed, max(seen, total))

    def nothing_new(self, run_id: int, seen: int) -> bool:
        """True while the run goes on with no lines after the first `seen`: a follower's
        poll then skips reading the output (up to 64 KiB) again."""
        progress = self.database.runs.progress(run_id)
        if progress is None:
            return False  # gone: the full read says so
        status, lines = progress
        return status in (RunStatus.PENDING, RunStatus.RUNNING) and lines <= seen

    def run_to_show(self, job_name: str) -> Run:
        """The run `jobs logs NAME` shows: the one in progress, else the one a trigger
        queued (just triggered: that is the one to follow), else the newest that ran."""
        self.database.jobs.get(job_name)  # an unknown name is NotFound
        with self.database.engine.connect() as connection:
            queued = self.database.runs.queued_of(connection, job_name)
        run = (
            self.database.runs.running_of(job_name)
            or queued
            or self.database.runs.newest_started(job_name)
        )
        if run is None:
            raise NotFound(f"job: {job_name!r} has not run yet")
        return run

    def history(self, job_name: str | None, limit: int, *, with_output: bool = True) -> list[Run]:
        """The newest `limit` runs of one job (which must exist) or of all."""
        runs = self.database.runs.history(job_name, limit, with_output=with_output)
        if job_name is not None and not runs:
            self.database.jobs.get(job_name)  # an unknown name is an error, not an empty list
        return runs

    def page(self, query: RunQuery) -> RunPage:
        """A page of runs, newest first; the cursor is the id the next page starts below."""
        check_limit(query.limit, MAX_PAGE)
        before = cursor_id(query.cursor)
        runs = self.database.runs.page(
            job_name=query.job,
            status=query.status,
            since=query.since,
            before_id=before,
            limit=query.limit + 1,  # one more tells whether a next page exists
        )
        if query.job is not None and not runs:
            # An unknown job is an error, not an empty page; a deleted job's runs stay listed.
            self.database.jobs.get(query.job)
        more = len(runs) > query.limit
        runs = runs[: query.limit]
        return RunPage(runs, str(runs[-1].id) if more else None)
