"""Run history: finishing runs, listing history, finding runs whose runner died."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    FromClause,
    Label,
    Row,
    ScalarSelect,
    Select,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from director_jobs.db.engine import connected
from director_jobs.db.schema import jobs, runs
from director_jobs.model import Run, RunStatus, RunSummary, Trigger
from director_jobs.progress import Progress


def run_from_row(row: Row[Any]) -> Run:
    """Build a Run from a `runs` row."""
    m = row._mapping
    return Run(
        id=m["id"],
        job_name=m["job_name"],
        job_type=m["job_type"],
        status=RunStatus(m["status"]),
        trigger=Trigger(m["trigger"]),
        attempt=m["attempt"],
        scheduled_for=m["scheduled_for"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        duration=m["duration_seconds"],
        exit_code=m["exit_code"],
        error=m["error"],
        output=(m["output"] or "") if "output" in m else "",  # lists leave it out
        runner=m["runner"],
        stopped_by=m["stopped_by"],
        output_lines=m["output_lines"] or 0,
        parameters=json.loads(m["parameters"]) if m["parameters"] else None,
        progress=_progress_text(m.get("progress"), m.get("progress_fraction")),
    )


def _progress_text(message: str | None, fraction: float | None) -> str | None:
    """The stored progress as jobs show it (None: the job reported none)."""
    if message is None:
        return None
    return Progress(message, fraction).text() or None  # an empty `::progress` says nothing


# Runs that have not ended yet (or never started): no "last run" of a job.
UNFINISHED = [RunStatus.PENDING.value, RunStatus.RUNNING.value, RunStatus.SKIPPED.value]


def _newest_finished_run_id() -> ScalarSelect[int]:
    """The id of the newest finished run of the job in the enclosing query's `jobs` row.

    A correlated subquery per job walks ix_runs_job_name_id backwards from the job's
    newest run and stops at the first finished one: a few index steps per job however
    long the history, where a GROUP BY over all runs read every row.
    """
    newer = runs.alias("newer")
    return (
        select(newer.c.id)
        .where(
            newer.c.job_name == jobs.c.name,
            newer.c.status.not_in(UNFINISHED),
            newer.c.started_at.is_not(None),  # a queued run cancelled before it began
        )
        .order_by(newer.c.id.desc())
        .limit(1)
        .correlate(jobs)
        .scalar_subquery()
    )


def _summary_columns(last: FromClause) -> list[Label[Any]]:
    """The columns of a RunSummary from `last` (an alias of runs), labelled last_…."""
    names = ("id", "status", "trigger", "started_at", "finished_at", "duration_seconds")
    return [last.c[name].label(f"last_{name}") for name in (*names, "exit_code", "error")]


@dataclass(frozen=True)
class OverviewStatements:
    """The statements of job overviews (each with the summary of a job's last run)."""

    jobs_with_last_run: Select[Any]  # every job, by name
    last_runs: Select[Any]  # every job's
    last_runs_of: Select[Any]  # of the jobs in :names
    last_run_of_one: Select[Any]  # of the job :name: a plain index walk


@functools.cache
def overview_statements() -> OverviewStatements:
    """Built once, on first use: building them took longer than running them for one job
    (an alias and a subquery each time), and a statement built once is compiled once.
    Not at import: a cron `jobs run` with nothing due would pay for them too."""
    last = runs.alias("last")
    last_runs = (
        select(jobs.c.name, *_summary_columns(last))
        .select_from(jobs)
        .join(last, last.c.id == _newest_finished_run_id())
    )
    return OverviewStatements(
        jobs_with_last_run=select(jobs, *_summary_columns(last))
        .select_from(jobs.outerjoin(last, last.c.id == _newest_finished_run_id()))
        .order_by(jobs.c.name),
        last_runs=last_runs,
        last_runs_of=last_runs.where(jobs.c.name.in_(bindparam("names", expanding=True))),
        last_run_of_one=select(runs.c.job_name.label("name"), *_summary_columns(runs))
        .where(
            runs.c.job_name == bindparam("name"),
            runs.c.status.not_in(UNFINISHED),
            runs.c.started_at.is_not(None),
        )
        .order_by(runs.c.id.desc())
        .limit(1),
    )


# Every column of a run but its output (up to 64 KiB each), for lists that do not show it.
_WITHOUT_OUTPUT = [column for column in runs.c if column.name != "output"]


@functools.cache
def _listing(
    by_job: bool, by_status: bool, by_start: bool, paged: bool, with_output: bool = False
) -> Select[Any]:
    """Runs newest first, with a filter for each flag that is set; built once per mix of
    filters (building one took as long as running it). Values: job_name, status, since,
    before_id, limit."""
    query = select(*(runs.c if with_output else _WITHOUT_OUTPUT)).order_by(runs.c.id.desc())
    if by_job:
        query = query.where(runs.c.job_name == bindparam("job_name"))
    if by_status:
        query = query.where(runs.c.status == bindparam("status"))
    if by_start:
        started = func.coalesce(runs.c.started_at, runs.c.scheduled_for, runs.c.finished_at)
        query = query.where(started >= bindparam("since", type_=runs.c.started_at.type))
    if paged:
        query = query.where(runs.c.id < bindparam("before_id"))
    return query.limit(bindparam("limit"))


def summary_from_row(row: Row[Any]) -> RunSummary:
    """A RunSummary from the columns summary_columns() added to a row."""
    m = row._mapping
    return RunSummary(
        id=m["last_id"],
        status=RunStatus(m["last_status"]),
        trigger=Trigger(m["last_trigger"]),
        started_at=m["last_started_at"],
        finished_at=m["last_finished_at"],
        duration=m["last_duration_seconds"],
        exit_code=m["last_exit_code"],
        error=m["last_error"],
    )


@dataclass(frozen=True)
class RunningRow:
    """A run marked running, and the processes it belongs to."""

    run: Run
    job_id: int | None
    runner_process_start: float | None
    job_pid: int | None
    job_process_start: float | None
    job_cgroups: list[str]


class RunRepository:
    """All SQL about the `runs` table lives here."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def finish(
        connection: Connection,
        run_id: int,
        *,
        status: RunStatus,
        finished_at: datetime,
        duration: float,
        exit_code: int | None,
        error: str | None,
        output: str | None,
        output_lines: int = 0,
        progress: Progress | None = None,
    ) -> None:
        """Record how a run ended (in the caller's transaction); output None keeps what is
        stored (what a dead runner saved of its job's output while it ran), progress None
        what was saved of it."""
        values: dict[str, Any] = {
            "status": status.value,
            "finished_at": finished_at,
            "duration_seconds": duration,
            "exit_code": exit_code,
            "error": error,
        }
        if output is not None:
            values.update(output=output, output_lines=output_lines)
        if progress is not None:
            values.update(progress=progress.message[:255], progress_fraction=progress.fraction)
        connection.execute(update(runs).where(runs.c.id == run_id).values(**values))

    def save_output(
        self, run_id: int, output: str, output_lines: int, progress: Progress | None = None
    ) -> None:
        """Store the output of a run in progress so far (its followers read it), and the
        newest progress it reported."""
        values: dict[str, Any] = {"output": output, "output_lines": output_lines}
        if progress is not None:
            values["progress"] = progress.message[:255]
            values["progress_fraction"] = progress.fraction
        with self.engine.begin() as connection:
            connection.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == RunStatus.RUNNING.value)
                .values(**values)
            )

    @staticmethod
    def record(connection: Connection, **values: Any) -> int:
        """Insert a run that is already over (skipped slots, ad-hoc executions)."""
        values.setdefault("output", "")
        key = connection.execute(insert(runs).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    @staticmethod
    def queue(
        connection: Connection,
        *,
        job_id: int,
        job_name: str,
        job_type: str,
        parameters: dict[str, Any] | None,
        now: datetime,
    ) -> int:
        """Insert a run a trigger asked for: `pending` until a runner starts it."""
        return RunRepository.record(
            connection,
            job_id=job_id,
            job_name=job_name,
            job_type=job_type,
            status=RunStatus.PENDING.value,
            trigger=Trigger.MANUAL.value,
            attempt=1,
            scheduled_for=now,  # when it was asked for
            parameters=None if parameters is None else json.dumps(parameters),
        )

    @staticmethod
    def queued_of(connection: Connection, job_name: str) -> Run | None:
        """The oldest run of `job_name` a trigger queued and no runner has started yet."""
        query = (
            select(runs)
            .where(runs.c.job_name == job_name, runs.c.status == RunStatus.PENDING.value)
            .order_by(runs.c.id)
            .limit(1)
        )
        row = connection.execute(query).first()
        return None if row is None else run_from_row(row)

    @staticmethod
    def start_queued(connection: Connection, job_name: str, **values: Any) -> int | None:
        """Turn the job's queued run into the running one (None when none is queued)."""
        queued = RunRepository.queued_of(connection, job_name)
        if queued is None:
            return None
        started = connection.execute(
            update(runs)
            .where(runs.c.id == queued.id, runs.c.status == RunStatus.PENDING.value)
            .values(status=RunStatus.RUNNING.value, **values)
        )
        return queued.id if started.rowcount == 1 else None

    @staticmethod
    def close_queued(
        connection: Connection,
        job_name: str,
        *,
        status: RunStatus,
        error: str,
        now: datetime,
        stopped_by: str | None = None,
        run_id: int | None = None,
        started: bool = False,
    ) -> int:
        """End the job's queued runs (or the one `run_id`) that never started; how many.

        `started`: the runner tried to start it (an error run, with a start time, as the
        job's last run); otherwise it never began (a cancel: no last run of the job).
        """
        conditions = [runs.c.job_name == job_name, runs.c.status == RunStatus.PENDING.value]
        if run_id is not None:
            conditions.append(runs.c.id == run_id)
        result = connection.execute(
            update(runs)
            .where(*conditions)
            .values(
                status=status.value,
                error=error,
                finished_at=now,
                started_at=now if started else None,
                duration_seconds=0.0,
                stopped_by=stopped_by,
            )
        )
        return result.rowcount

    def history(
        self,
        job_name: str | None,
        limit: int,
        *,
        with_output: bool = True,
        connection: Connection | None = None,
    ) -> list[Run]:
        """Runs, newest first, of one job or of all; without their output when it is not
        shown (up to 64 KiB a run)."""
        query = _listing(job_name is not None, False, False, False, with_output)
        with connected(self.engine, connection) as on:
            rows = on.execute(query, {"job_name": job_name, "limit": limit}).all()
        return [run_from_row(r) for r in rows]

    def latest_by_job(
        self, names: Sequence[str] | None = None, connection: Connection | None = None
    ) -> dict[str, RunSummary]:
        """The newest finished run of each job (skipped slots left out), in one query."""
        statements = overview_statements()
        values: dict[str, Any]
        if names is not None and len(names) == 1:
            query, values = statements.last_run_of_one, {"name": names[0]}
        elif names is not None:
            query, values = statements.last_runs_of, {"names": list(names)}
        else:
            query, values = statements.last_runs, {}
        with connected(self.engine, connection) as on:
            rows = on.execute(query, values).all()  # one fetch, not one a row
        return {row.name: summary_from_row(row) for row in rows}

    def page(
        self,
        *,
        job_name: str | None,
        status: RunStatus | None,
        since: datetime | None,
        before_id: int | None,
        limit: int,
    ) -> list[Run]:
        """Runs newest first (without their output), narrowed by job, status and start
        time; `before_id` pages on."""
        query = _listing(
            job_name is not None, status is not None, since is not None, before_id is not None
        )
        values = {
            "job_name": job_name,
            "status": None if status is None else status.value,
            "since": since,
            "before_id": before_id,
            "limit": limit,
        }
        with self.engine.connect() as connection:
            return [run_from_row(r) for r in connection.execute(query, values).all()]

    def get(self, run_id: int) -> Run | None:
        """One run by id."""
        with self.engine.connect() as connection:
            row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
        return run_from_row(row) if row else None

    def running(self) -> list[RunningRow]:
        """Runs marked running, with what crash recovery needs (ix_runs_status)."""
        query = select(runs).where(runs.c.status == RunStatus.RUNNING.value)
        with self.engine.connect() as connection:
            return [
                RunningRow(
                    run_from_row(r),
                    r.job_id,
                    r.runner_process_start,
                    r.job_pid,
                    r.job_process_start,
                    (r.job_cgroups or "").splitlines(),
                )
                for r in connection.execute(query)
            ]

    def running_of(self, job_name: str) -> Run | None:
        """The run of `job_name` in progress, if any."""
        query = (
            select(runs)
            .where(runs.c.job_name == job_name, runs.c.status == RunStatus.RUNNING.value)
            .order_by(runs.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return run_from_row(row) if row else None

    def progress(self, run_id: int) -> tuple[RunStatus, int] | None:
        """A run's status and its count of output lines, without reading the output."""
        query = select(runs.c.status, runs.c.output_lines).where(runs.c.id == run_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else (RunStatus(row.status), row.output_lines)

    def newest_started(self, job_name: str) -> Run | None:
        """The newest run of a job that started (skipped slots and queued runs left out)."""
        query = (
            select(runs)
            .where(runs.c.job_name == job_name, runs.c.started_at.is_not(None))
            .order_by(runs.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else run_from_row(row)

    def request_stop(self, run_id: int, by: str, at: datetime) -> bool:
        """Ask the runner holding the run to stop it; False when it is not running.

        A second request while the first is pending keeps the first requester.
        """
        with self.engine.begin() as connection:
            asked = connection.execute(
                update(runs)
                .where(
                    runs.c.id == run_id,
                    runs.c.status == RunStatus.RUNNING.value,
                    runs.c.stop_requested_at.is_(None),
                )
                .values(stop_requested_at=at, stopped_by=by)
            ).rowcount
            if asked:
                return True
            pending = connection.execute(
                select(runs.c.id).where(
                    runs.c.id == run_id,
                    runs.c.status == RunStatus.RUNNING.value,
                    runs.c.stop_requested_at.is_not(None),
                )
            ).first()
            return pending is not None

    def stop_requested_by(self, run_id: int) -> str | None:
        """Who asked to stop this run, if anyone did (the runner polls this while it runs)."""
        query = select(runs.c.stopped_by).where(
            runs.c.id == run_id, runs.c.stop_requested_at.is_not(None)
        )
        with self.engine.connect() as connection:
            return connection.execute(query).scalar()

    def set_job_process(
        self, run_id: int, pid: int, started: float | None, cgroups: list[str]
    ) -> None:
        """Remember the job's process (and its cgroups) for a run in progress."""
        with self.engine.begin() as connection:
            connection.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    job_pid=pid,
                    job_process_start=started,
                    job_cgroups="\n".join(cgroups) or None,
                )
            )
