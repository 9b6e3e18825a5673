"""`jobs execute`: run a job type once without a definition, recorded as an `execute` run."""

from __future__ import annotations

import logging
import threading
from typing import Any

from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.execution.child import execute_in_child
from director_jobs.execution.containment import Containment
from director_jobs.execution.inprocess import Outcome, RunLogAdapter, execute_in_process
from director_jobs.execution.isolation import Isolation
from director_jobs.identity import RunnerIdentity
from director_jobs.job_types.base import JobContext
from director_jobs.job_types.registry import Registry
from director_jobs.logs import job_extra
from director_jobs.model import RunStatus, Trigger
from director_jobs.output import OutputTail

log = logging.getLogger("director_jobs.execute")


def adhoc_job_name(type_name: str) -> str:
    """The name history shows for an ad-hoc run; ':' cannot clash with a real job's name."""
    return f"execute:{type_name}"


def execute_adhoc(
    database: Database,
    registry: Registry,
    clock: Clock,
    type_name: str,
    params: dict[str, Any],
    timeout: float,
    *,
    cancel: threading.Event | None = None,
    containment: Containment | None = None,
) -> tuple[Outcome, float]:
    """Validate, run and record one ad-hoc execution; return the outcome and its duration."""
    # Bad parameters: an error before anything is recorded.
    job_type, merged = registry.validated(type_name, params)
    identity = RunnerIdentity.current()
    name = adhoc_job_name(type_name)
    started = clock.now()
    with database.engine.begin() as connection:
        run_id = database.runs.record(
            connection,
            job_name=name,
            job_type=type_name,
            status=RunStatus.RUNNING.value,
            trigger=Trigger.EXECUTE.value,
            attempt=1,
            started_at=started,
            runner=identity.label,
            runner_process_start=identity.process_start,
        )
    output = OutputTail()
    logger = RunLogAdapter(
        logging.getLogger(f"director_jobs.job.{type_name}"),
        job_extra(name, type_name, run_id),
        output,
    )
    # As a one-shot run would: in a child that --timeout can kill, unless it cannot hang.
    in_child = Isolation.BY_TYPE.in_child(job_type)
    cgroup = None
    if in_child or job_type.starts_own_process:
        cgroup = (containment or Containment.detect()).open(run_id, None)
    context = JobContext(
        job_name=name,
        run_id=run_id,
        logger=logger,
        clock=clock,
        output=output,
        timeout=timeout,
        cancel=cancel or threading.Event(),
        database_url=database.url,
        cgroup=None if in_child else cgroup,
    )
    log.info("Starting job execution")
    begin = clock.monotonic()
    try:
        if in_child:
            outcome = execute_in_child(job_type, merged, context, cgroup=cgroup)
        else:
            outcome = execute_in_process(job_type, merged, context)
    finally:
        logger.note_dropped()
        if cgroup is not None:
            cgroup.remove()
    duration = clock.monotonic() - begin
    text, lines = output.snapshot()
    with database.engine.begin() as connection:
        database.runs.finish(
            connection,
            run_id,
            status=outcome.status,
            finished_at=clock.now(),
            duration=duration,
            exit_code=outcome.exit_code,
            error=outcome.error,
            output=text,
            output_lines=lines,
        )
    return outcome, duration
