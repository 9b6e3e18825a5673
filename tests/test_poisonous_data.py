"""Data that could poison the runner: NUL bytes, lone surrogates and invalid UTF-8 in what jobs
print and sources deliver are stored safely on every backend; a result or a job that the
database cannot take fails that run only, never the runner."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke, run_director
from jobtypes_for_tests import TEST_TYPES
from sqlalchemy import create_engine, select, update

from director_jobs.clock import FakeClock, SystemClock
from director_jobs.db.database import Database
from director_jobs.db.schema import import_rows, jobs, object_changes, objects
from director_jobs.deploy.store import DeploymentStore, DeployStatus
from director_jobs.imports.errors import SourceFailed
from director_jobs.imports.service import ImportService
from director_jobs.imports.spec import SourceSpec
from director_jobs.job_types.registry import Registry
from director_jobs.model import JobSpec, RunStatus
from director_jobs.runner import UNSTARTABLE_RETRY_SECONDS, Runner
from director_jobs.sync.service import SyncService
from director_jobs.sync.spec import RuleSpec

REPLACED = "\ufffd"


def history(url: str, *args: str) -> list[dict[str, Any]]:
    result = invoke(url, "jobs", "history", "--json", "--output", *args)
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def test_nul_and_invalid_utf8_in_a_commands_output_are_stored_replaced(db_url: str) -> None:
    script = r"printf 'a\000b\377c\n'; printf 'e\000rr\n' >&2; find /tmp -maxdepth 0 -print0"
    added = invoke(
        db_url,
        "jobs",
        "add",
        "p0",
        "--type",
        "command",
        "--parameters",
        json.dumps({"command": script, "shell": True}),
    )
    assert added.exit_code == 0, added.output

    ran = invoke(db_url, "jobs", "run", "p0")

    assert ran.exit_code == 0, ran.output
    [run] = history(db_url, "p0")
    assert run["status"] == "success"
    assert f"a{REPLACED}b{REPLACED}c" in run["output"]
    assert f"[stderr] e{REPLACED}rr" in run["output"]
    assert f"/tmp{REPLACED}" in run["output"]
    assert "\x00" not in run["output"]


def poison_runner(url: str, clock: FakeClock) -> tuple[Database, Runner]:
    database = Database.open(url)
    return database, Runner(database, Registry(TEST_TYPES), clock, default_timezone="UTC")


def test_a_python_jobs_error_and_log_lines_with_unstorable_text_are_stored(
    db_url: str, clock: FakeClock
) -> None:
    database, runner = poison_runner(db_url, clock)
    database.jobs.add(
        JobSpec(name="poison", type="poison", interval=3600), clock.now(), clock.now()
    )

    runner.run_once()

    [run] = database.runs.history("poison", 5)
    assert run.status is RunStatus.ERROR
    assert run.error == f"bad {REPLACED} and {REPLACED}{REPLACED} here"
    assert f"INFO: log {REPLACED} line {REPLACED}" in run.output
    database.dispose()


def test_a_result_the_database_cannot_take_fails_that_run_and_the_next_job_runs(
    db_url: str, clock: FakeClock
) -> None:
    """An exit code of 2**70 fits no INTEGER column (PostgreSQL: out of range; SQLite's driver
    cannot bind it): the run is stored as an error naming that, and the job is released."""
    database, runner = poison_runner(db_url, clock)
    database.jobs.add(JobSpec(name="huge", type="huge-exit", interval=60), clock.now(), clock.now())
    database.jobs.add(JobSpec(name="after", type="sleep", interval=60), clock.now(), clock.now())

    runner.run_once()

    runs = {run.job_name: run for run in database.runs.history(None, 10)}
    assert runs["huge"].status is RunStatus.ERROR
    assert runs["huge"].error is not None
    assert runs["huge"].error.startswith("the result of this run could not be stored (")
    assert runs["huge"].exit_code is None
    assert runs["after"].status is RunStatus.SUCCESS
    job = database.jobs.get("huge")
    assert job.claimed_by is None  # released: it runs again at its next slot
    assert job.next_due_at == clock.now() + timedelta(seconds=60)
    database.dispose()


def test_a_job_whose_stored_schedule_trips_the_runner_is_recorded_and_postponed(
    db_url: str, clock: FakeClock
) -> None:
    """A row written by an older version (or by hand) with a cron that no longer parses."""
    database, runner = poison_runner(db_url, clock)
    database.jobs.add(JobSpec(name="broken", type="sleep", interval=60), clock.now(), clock.now())
    database.jobs.add(JobSpec(name="fine", type="sleep", interval=60), clock.now(), clock.now())
    with database.engine.begin() as connection:
        connection.execute(
            update(jobs)
            .where(jobs.c.name == "broken")
            .values(interval_seconds=None, cron="61 * * * *")
        )

    runner.run_once()
    runner.run_once()  # postponed: not tried again at once

    broken = database.runs.history("broken", 5)
    assert [run.status for run in broken] == [RunStatus.ERROR]
    assert broken[0].error is not None and broken[0].error.startswith("could not start the job: ")
    assert "61 * * * *" in broken[0].error
    assert [run.status for run in database.runs.history("fine", 5)] == [RunStatus.SUCCESS]
    job = database.jobs.get("broken")
    assert job.claimed_by is None
    assert job.next_due_at == clock.now() + timedelta(seconds=UNSTARTABLE_RETRY_SECONDS)
    database.dispose()


def test_imported_rows_with_nul_and_lone_surrogates_are_stored_and_synced(
    db_url: str, tmp_path: Path
) -> None:
    """JSON escapes \\u0000 and \\ud800 reach rows, objects, their changes and deployments."""
    document = tmp_path / "hosts.json"
    document.write_text(
        '[{"name": "web\\u0000one", "note": "x\\ud800y", "\\udcffkey": "v"},'
        ' {"name": "db", "note": "fine"}]',
        encoding="utf-8",
    )
    database = Database.open(db_url)
    clock = SystemClock()
    source = SourceSpec("cmdb", "json", "name", {"path": str(document)})
    rule = RuleSpec(
        "hosts", "cmdb", "host", {"object_name": "${name}", "vars.note": "${note}"}, purge=True
    )
    imports, sync = ImportService(database.engine, clock), SyncService(database.engine, clock)
    with database.engine.begin() as connection:
        imports.apply_in(connection, [source], clock.now())
        sync.apply_in(connection, [rule], clock.now())

    outcome = imports.run("cmdb")
    synced = sync.run("hosts")
    again = imports.run("cmdb")

    assert outcome.rows == 2
    assert again.status.value == "unchanged"  # the checksum is of the stored (clean) rows
    with database.engine.connect() as connection:
        stored = [row.data for row in connection.execute(select(import_rows.c.data))]
        names = set(connection.execute(select(objects.c.name)).scalars())
        after = [c.after for c in connection.execute(select(object_changes.c.after))]
    assert {"name": f"web{REPLACED}one", "note": f"x{REPLACED}y", f"{REPLACED}key": "v"} in stored
    assert names == {f"web{REPLACED}one", "db"}
    assert synced.plan.counts.created == 2
    assert any(a and a.get("vars", {}).get("note") == f"x{REPLACED}y" for a in after)

    store = DeploymentStore(database.engine)
    deployment_id = store.record(
        job_name="deploy",
        target="directory:/nowhere",
        checksum="0" * 64,
        status=DeployStatus.FAILED,
        files=["hosts\x00.conf"],
        output="icinga2 said \x00 and \udc80",
        stage=None,
        started_at=clock.now(),
        finished_at=clock.now(),
        duration=0.1,
    )
    shown = store.get(deployment_id)
    assert shown.output == f"icinga2 said {REPLACED} and {REPLACED}"
    assert shown.files == [f"hosts{REPLACED}.conf"]
    database.dispose()


def test_a_csv_source_that_is_not_utf8_fails_naming_the_encoding(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "hosts.csv"
    path.write_bytes(b"hostname,ip\nweb\xff01,10.0.0.1\n")
    database = Database.open(db_url)
    clock = SystemClock()
    imports = ImportService(database.engine, clock)
    with database.engine.begin() as connection:
        imports.apply_in(
            connection, [SourceSpec("cmdb", "csv", "hostname", {"path": str(path)})], clock.now()
        )

    with pytest.raises(SourceFailed) as failed:
        imports.run("cmdb")

    assert str(failed.value) == (
        f"import source 'cmdb': {str(path)!r} is not utf-8 text "
        "(byte 15 of a read block: invalid start byte); set encoding"
    )
    with database.engine.connect() as connection:
        assert list(connection.execute(select(import_rows.c.id))) == []
    database.dispose()


def test_a_jobs_own_secrets_never_reach_its_output_error_or_log(sqlite_url: str) -> None:
    """A command that prints its PGPASSWORD (and fails naming it) shows *** everywhere."""
    script = 'echo "connecting with $PGPASSWORD"; echo "denied for $PGPASSWORD" >&2; exit 3'
    parameters = {"command": script, "shell": True, "env": {"PGPASSWORD": "s3cret-pw"}}
    added = invoke(
        sqlite_url, "jobs", "add", "leaky", "--type", "command",
        "--parameters", json.dumps(parameters),
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    ran = run_director(sqlite_url, "-v", "jobs", "run", "leaky")

    assert ran.returncode == 1
    assert "connecting with ***" in ran.stderr and "denied for ***" in ran.stderr
    [run] = history(sqlite_url, "leaky")
    assert "connecting with ***" in run["output"] and "[stderr] denied for ***" in run["output"]
    everything = ran.stdout + ran.stderr + json.dumps(history(sqlite_url))
    assert "s3cret-pw" not in everything


def test_a_job_stored_with_a_lone_surrogate_by_an_older_version_lists_and_runs(
    sqlite_url: str,
) -> None:
    """SQLite kept such parameters before they were refused; jobs list --json crashed on them."""
    added = invoke(sqlite_url, "jobs", "add", "legacy", "--type", "self-check")
    assert added.exit_code == 0, added.output
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as connection:
        connection.execute(
            "UPDATE jobs SET parameters = ? WHERE name = 'legacy'", ('{"message": "\\ud800"}',)
        )

    listed = run_director(sqlite_url, "jobs", "list", "--json")
    ran = run_director(sqlite_url, "jobs", "run", "legacy")

    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["parameters"] == {"message": REPLACED}
    assert ran.returncode == 0, ran.stderr


def test_a_statement_the_database_refuses_is_one_line_without_its_parameters(
    postgres: Any,
) -> None:
    """No traceback and no `[SQL: …] [parameters: …]` (they may hold secrets)."""
    url = postgres.new_database()
    assert invoke(url, "jobs", "add", "a", "--type", "self-check").exit_code == 0
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE runs")
    engine.dispose()

    result = run_director(url, "jobs", "history")

    assert result.returncode == 1
    assert result.stderr == (
        'director: error: the database refused it: relation "runs" does not exist\n'
    )
