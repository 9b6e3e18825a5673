"""Job definitions and their scheduling state: reads, writes and the atomic claim."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from director_jobs.db.engine import connected
from director_jobs.db.runs_repo import RunRepository, overview_statements, summary_from_row
from director_jobs.db.schema import jobs, runs
from director_jobs.db.types import UTCDateTime
from director_jobs.errors import AlreadyExists, JobAlreadyRunning, NotFound
from director_jobs.model import Job, JobSpec, RunStatus, RunSummary, Trigger


def spec_columns(spec: JobSpec) -> dict[str, Any]:
    """Column values for a definition."""
    return {
        "name": spec.name,
        "type": spec.type,
        "parameters": spec.parameters,
        "interval_seconds": spec.interval,
        "cron": spec.cron,
        "timezone": spec.timezone,
        "timeperiod": spec.timeperiod,
        "disabled": spec.disabled,
        "timeout_seconds": spec.timeout,
        "retries": spec.retries,
        "retry_delay_seconds": spec.retry_delay,
        "tags": list(spec.tags),
        "description": spec.description,
        "confirm": spec.confirm,
        "memory_limit_mib": spec.memory_limit,
        "requires": requires_json(spec),
    }


def requires_json(spec: JobSpec) -> dict[str, Any] | None:
    """The stored form of a job's preconditions (None when it has none)."""
    requires: dict[str, Any] = {}
    if spec.requires_command:
        requires["command"] = list(spec.requires_command)
    if spec.requires_path is not None:
        requires["path"] = spec.requires_path
    return requires or None


def job_from_row(row: Row[Any]) -> Job:
    """Build a Job from a full `jobs` row."""
    m = row._mapping
    requires = m["requires"] or {}
    spec = JobSpec(
        name=m["name"],
        type=m["type"],
        parameters=dict(m["parameters"] or {}),
        interval=m["interval_seconds"],
        cron=m["cron"],
        timezone=m["timezone"],
        timeperiod=m["timeperiod"],
        disabled=bool(m["disabled"]),
        timeout=m["timeout_seconds"],
        retries=m["retries"],
        retry_delay=m["retry_delay_seconds"],
        tags=tuple(m["tags"] or ()),
        description=m["description"] or "",
        confirm=bool(m["confirm"]),
        memory_limit=m["memory_limit_mib"],
        requires_command=tuple(requires.get("command", ())),
        requires_path=requires.get("path"),
    )
    trigger = m["pending_trigger"]
    return Job(
        id=m["id"],
        spec=spec,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        last_attempt_at=m["last_attempt_at"],
        next_due_at=m["next_due_at"],
        attempt=m["attempt"],
        pending_trigger=Trigger(trigger) if trigger else None,
        claimed_by=m["claimed_by"],
    )


class JobRepository:
    """All SQL about the `jobs` table lives here."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- definitions ---------------------------------------------------------------

    def add(self, spec: JobSpec, now: datetime, next_due_at: datetime | None) -> Job:
        """Insert a new job; AlreadyExists when the name is taken."""
        with self.engine.begin() as connection:
            self.insert(connection, spec, now, next_due_at)
        return self.get(spec.name)

    @staticmethod
    def insert(
        connection: Connection, spec: JobSpec, now: datetime, next_due_at: datetime | None
    ) -> None:
        """Insert within a caller's transaction."""
        try:
            connection.execute(
                insert(jobs).values(
                    **spec_columns(spec),
                    created_at=now,
                    updated_at=now,
                    next_due_at=next_due_at,
                    attempt=0,
                )
            )
        except IntegrityError:
            raise AlreadyExists(f"name: a job named {spec.name!r} exists already") from None

    @staticmethod
    def replace(
        connection: Connection, job: Job, spec: JobSpec, now: datetime, next_due_at: datetime | None
    ) -> None:
        """Overwrite a definition; the scheduling state follows the new schedule."""
        connection.execute(
            update(jobs)
            .where(jobs.c.id == job.id)
            .values(**spec_columns(spec), updated_at=now, next_due_at=next_due_at)
        )

    def get(self, name: str, connection: Connection | None = None) -> Job:
        """Return the job `name` or raise NotFound."""
        with connected(self.engine, connection) as on:
            row = on.execute(_by_name(), {"name": name}).first()
        if row is None:
            raise NotFound(f"job: no job named {name!r}")
        return job_from_row(row)

    def all(self, connection: Connection | None = None) -> list[Job]:
        """Every job, by name."""
        query = select(jobs).order_by(jobs.c.name)
        with connected(self.engine, connection) as on:
            # .all() fetches in one call; iterating fetches row by row, which psycopg
            # made the slowest part of GET /jobs with 1,000 jobs (docs/benchmarks.md).
            return [job_from_row(r) for r in on.execute(query).all()]

    def all_with_last_run(self) -> list[tuple[Job, RunSummary | None]]:
        """Every job, by name, with a summary of its newest finished run: one query."""
        with self.engine.connect() as connection:
            rows = connection.execute(overview_statements().jobs_with_last_run).all()
        return [
            (job_from_row(row), None if row.last_id is None else summary_from_row(row))
            for row in rows
        ]

    def delete(self, connection: Connection, name: str) -> Job:
        """Delete a job that is not running (in the caller's transaction); its run history
        stays (by name). Returns the job as it was."""
        job = self.get(name, connection)
        if job.claimed_by:
            raise JobAlreadyRunning(f"job: {name!r} is running on {job.claimed_by}; wait for it")
        connection.execute(jobs.delete().where(jobs.c.id == job.id))
        return job

    @staticmethod
    def delete_in(connection: Connection, job_id: int) -> None:
        """Delete a job row in the caller's transaction."""
        connection.execute(jobs.delete().where(jobs.c.id == job_id))

    def set_disabled(self, name: str, disabled: bool, now: datetime) -> Job:
        """Enable or disable a job."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(jobs).where(jobs.c.name == name).values(disabled=disabled, updated_at=now)
            )
            if result.rowcount != 1:
                raise NotFound(f"job: no job named {name!r}")
        return self.get(name)

    def request_run(self, connection: Connection, name: str, now: datetime) -> Job:
        """Ask for a manual run: due now, with the manual trigger (ignores schedule and period).

        An UPDATE first, so that it holds the job's row (PostgreSQL) or the database's
        write lock (SQLite) for the rest of the caller's transaction: two triggers at once
        queue one run, not two.
        """
        result = connection.execute(
            update(jobs)
            .where(jobs.c.name == name)
            .values(next_due_at=now, pending_trigger=Trigger.MANUAL.value)
        )
        if result.rowcount != 1:
            raise NotFound(f"job: no job named {name!r}")
        return self.get(name, connection)

    @staticmethod
    def cancel_trigger(connection: Connection, job: Job, next_due_at: datetime | None) -> None:
        """Forget a manual trigger whose run was cancelled before it started.

        An idle job is due by its schedule again (`next_due_at`); a running job's release
        sets its next due time itself.
        """
        values: dict[str, Any] = {"pending_trigger": None}
        if job.claimed_by is None:
            values["next_due_at"] = next_due_at
        connection.execute(
            update(jobs)
            .where(jobs.c.id == job.id, jobs.c.pending_trigger == Trigger.MANUAL.value)
            .values(values)
        )

    # -- the runner's view -----------------------------------------------------------

    def due(self, now: datetime, limit: int) -> list[Job]:
        """Enabled jobs due at `now` and not claimed, oldest due first (reads the due index)."""
        query = (
            select(jobs)
            .where(
                jobs.c.disabled.is_(False),
                jobs.c.next_due_at <= now,
                jobs.c.claimed_by.is_(None),
            )
            .order_by(jobs.c.next_due_at, jobs.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [job_from_row(r) for r in connection.execute(query)]

    def next_due(self) -> tuple[str, datetime] | None:
        """Name and due time of the enabled, unclaimed job due first (walks the due index).

        This is the daemon's cheap check: a trigger, a new job or a changed schedule shows
        up here as an earlier due time.
        """
        query = (
            select(jobs.c.name, jobs.c.next_due_at)
            .where(
                jobs.c.disabled.is_(False),
                jobs.c.next_due_at.is_not(None),
                jobs.c.claimed_by.is_(None),
            )
            .order_by(jobs.c.next_due_at)
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return (row.name, row.next_due_at) if row else None

    def defer(self, job: Job, until: datetime) -> None:
        """Postpone a due job to when its time period opens, remembering the original due time."""
        with self.engine.begin() as connection:
            connection.execute(
                update(jobs)
                .where(
                    jobs.c.id == job.id,
                    jobs.c.claimed_by.is_(None),
                    # a manual trigger ignores the period: one that came after our read
                    # must not be put off to the period's opening
                    jobs.c.pending_trigger.is_distinct_from(Trigger.MANUAL.value),
                )
                .values(
                    next_due_at=until,
                    deferred_from=func.coalesce(jobs.c.deferred_from, jobs.c.next_due_at),
                )
            )

    @staticmethod
    def postpone_unclaimed(connection: Connection, job_id: int, until: datetime) -> bool:
        """Move an unclaimed job's due time to `until` and drop its trigger; False if claimed."""
        result = connection.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.claimed_by.is_(None))
            .values(next_due_at=until, pending_trigger=None, deferred_from=None)
        )
        return result.rowcount == 1

    @staticmethod
    def undefer_all(connection: Connection) -> int:
        """Give postponed jobs their original due time back (a time period changed)."""
        result = connection.execute(
            update(jobs)
            .where(jobs.c.deferred_from.is_not(None))
            .values(next_due_at=jobs.c.deferred_from, deferred_from=None)
        )
        return result.rowcount

    def claim(
        self,
        job: Job,
        *,
        runner: str,
        runner_process_start: float | None,
        now: datetime,
        trigger: Trigger,
        attempt: int,
        scheduled_for: datetime | None,
        require_due: bool,
        also: Callable[[Connection], None] | None = None,
    ) -> int | None:
        """Atomically mark `job` as running here and open its run; None when someone was first.

        The UPDATE's WHERE decides the race on both databases: on PostgreSQL the second
        writer waits for the row lock and then sees `claimed_by` set; on SQLite writers
        are serialised by the database lock. With `require_due`, a job that another
        runner ran (and released) between our read and this claim is not run again.
        `also` writes more rows in the same transaction, before the run's row.
        """
        conditions = [jobs.c.id == job.id, jobs.c.claimed_by.is_(None)]
        claim_values: dict[str, Any] = {"claimed_by": runner, "deferred_from": None}
        if require_due:
            conditions += [jobs.c.disabled.is_(False), jobs.c.next_due_at <= now]
            # A trigger that came after our read loses nothing: the claim fails, and the
            # next pass starts the run that trigger queued.
            pending = job.pending_trigger.value if job.pending_trigger else None
            conditions.append(jobs.c.pending_trigger.is_not_distinct_from(pending))
            claim_values["pending_trigger"] = None  # this run is the one it asked for
        # else `jobs run NAME`: a trigger queued before stays, and runs after this run.
        started = {
            "started_at": now,
            "runner": runner,
            "runner_process_start": runner_process_start,
            "attempt": attempt,
            "job_type": job.spec.type,  # a PUT may have changed it since the trigger
        }
        with self.engine.begin() as connection:
            claimed = connection.execute(update(jobs).where(and_(*conditions)).values(claim_values))
            if claimed.rowcount != 1:
                connection.rollback()
                return None
            if also is not None:
                also(connection)
            run_id = None
            if require_due and trigger is Trigger.MANUAL:  # the run the trigger queued
                run_id = RunRepository.start_queued(connection, job.name, **started)
            if run_id is None:
                key = connection.execute(
                    insert(runs).values(
                        job_id=job.id,
                        job_name=job.name,
                        status=RunStatus.RUNNING.value,
                        trigger=trigger.value,
                        scheduled_for=scheduled_for,
                        output="",
                        **started,
                    )
                ).inserted_primary_key
                assert key is not None
                run_id = int(key[0])
            connection.execute(
                update(jobs)
                .where(jobs.c.id == job.id)
                .values(claimed_run_id=run_id, last_attempt_at=now)
            )
        return run_id

    @staticmethod
    def release(
        connection: Connection,
        job_id: int,
        run_id: int,
        *,
        next_due_at: datetime | None,
        attempt: int,
        pending_trigger: Trigger | None,
        now: datetime,
    ) -> None:
        """Clear the claim of `run_id` and store the next due time (in the caller's transaction).

        A `jobs trigger` that arrived while the run was going on (the claim cleared the
        pending trigger, so a manual one now is new) is kept: the job is due again at
        `now` and runs once more. The SET clauses are ordered so that both CASEs read the
        old pending trigger on MySQL too, which evaluates assignments left to right.
        """
        triggered_meanwhile = jobs.c.pending_trigger == Trigger.MANUAL.value
        connection.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.claimed_run_id == run_id)
            .ordered_values(
                (jobs.c.claimed_by, None),
                (jobs.c.claimed_run_id, None),
                (
                    jobs.c.next_due_at,
                    case(
                        (triggered_meanwhile, literal(now, UTCDateTime)),
                        else_=literal(next_due_at, UTCDateTime),
                    ),
                ),
                (jobs.c.attempt, case((triggered_meanwhile, 0), else_=attempt)),
                (
                    jobs.c.pending_trigger,
                    case(
                        (triggered_meanwhile, Trigger.MANUAL.value),
                        else_=literal(pending_trigger.value if pending_trigger else None, String),
                    ),
                ),
            )
        )

    def by_ids(self, ids: Sequence[int]) -> dict[int, Job]:
        """Jobs by id."""
        if not ids:
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(select(jobs).where(jobs.c.id.in_(list(ids))))
            return {row.id: job_from_row(row) for row in rows}


@functools.cache
def _by_name() -> Select[Any]:
    """One job by name, built once: the API asks on most requests."""
    return select(jobs).where(jobs.c.name == bindparam("name"))
