"""Several one-shot runners started at once never run the same job twice (both backends)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.db.schema import runs
from director_jobs.job_types.registry import Registry
from director_jobs.model import JobSpec
from director_jobs.services.jobs import JobService

RUNNERS = 4
JOBS = 12


def test_overlapping_one_shot_runners_run_each_job_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    database = Database.open(db_url)
    marks = tmp_path / "marks"
    marks.mkdir()
    service = JobService(database, Registry(), SystemClock(), "UTC")
    for i in range(JOBS):
        # Each job appends one line per execution and holds the claim a little while,
        # so that the runners really overlap.
        script = f"echo $$ >> {marks}/job-{i}; sleep 0.2"
        service.add(
            JobSpec(
                name=f"job-{i}",
                type="command",
                parameters={"command": script, "shell": True},
                interval=3600,
            )
        )
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": db_url}
    env.pop("DIRECTOR_JOBS_CONFIG", None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "director_jobs", "jobs", "run"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(RUNNERS)
    ]
    errors = [p.communicate(timeout=90)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * RUNNERS, errors

    for i in range(JOBS):
        assert len((marks / f"job-{i}").read_text().splitlines()) == 1, (
            f"job-{i} ran more than once"
        )
    with database.engine.connect() as connection:
        rows = connection.execute(select(runs.c.job_name, runs.c.status, runs.c.runner)).all()
    assert sorted(r.job_name for r in rows) == sorted(f"job-{i}" for i in range(JOBS))
    assert {r.status for r in rows} == {"success"}
    # The work was shared: more than one runner claimed jobs (0.2 s each, 12 jobs).
    assert len({r.runner for r in rows}) > 1
    database.dispose()
