"""Housekeeping removes exactly what its policy says, and nothing that is in use (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from conftest import invoke
from sqlalchemy import func, insert, select

from director_jobs.db.database import Database
from director_jobs.db.retention import Policy, purge, vacuum
from director_jobs.db.schema import (
    deployments,
    import_rows,
    import_run_rows,
    import_runs,
    import_sources,
    runs,
    sync_rules,
    sync_runs,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def add_run(database: Database, job: str, age_days: float, status: str = "success") -> int:
    started = NOW - timedelta(days=age_days)
    with database.engine.begin() as connection:
        key = connection.execute(
            insert(runs).values(
                job_name=job,
                job_type="self-check",
                status=status,
                trigger="schedule",
                attempt=1,
                started_at=started,
                finished_at=None if status in ("running", "pending") else started,
                output="",
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def run_ids(database: Database) -> set[int]:
    with database.engine.connect() as connection:
        return set(connection.execute(select(runs.c.id)).scalars())


def test_runs_older_than_the_cutoff_or_beyond_the_per_job_limit_go(database: Database) -> None:
    old = add_run(database, "a", 40)
    old_running = add_run(database, "a", 40, status="running")
    old_queued = add_run(database, "a", 40, status="pending")  # a trigger still waits for it
    recent = [add_run(database, "b", 1 - i / 1000) for i in range(5)]
    removed = purge(database.engine, Policy(keep_runs_days=30, keep_runs_per_job=3), NOW)
    assert removed.runs == 3  # the 40-day-old run and the two oldest of b's five
    assert run_ids(database) == {old_running, old_queued, *recent[-3:]}
    assert old not in run_ids(database)


def test_import_runs_keep_the_newest_per_source_and_unused_rows_go(database: Database) -> None:
    with database.engine.begin() as connection:
        source = connection.execute(
            insert(import_sources).values(
                name="cmdb",
                provider="csv",
                settings={},
                key_column="host",
                modifiers=[],
                description="",
                created_at=NOW,
                updated_at=NOW,
            )
        ).inserted_primary_key[0]
        row_ids = [
            connection.execute(
                insert(import_rows).values(checksum=f"{i:064d}", data={"n": i})
            ).inserted_primary_key[0]
            for i in range(4)
        ]
        run_keys = []
        for number in range(3):  # run 0 uses rows 0+1, run 1 rows 1+2, run 2 rows 2+3
            run_id = connection.execute(
                insert(import_runs).values(
                    source_id=source,
                    checksum=f"{number:064d}",
                    row_count=2,
                    started_at=NOW,
                    finished_at=NOW,
                )
            ).inserted_primary_key[0]
            run_keys.append(run_id)
            for offset in (0, 1):
                connection.execute(
                    insert(import_run_rows).values(
                        import_run_id=run_id, key=f"k{offset}", row_id=row_ids[number + offset]
                    )
                )
    removed = purge(database.engine, Policy(keep_import_runs=2), NOW)
    assert (removed.import_runs, removed.import_rows) == (1, 1)
    with database.engine.connect() as connection:
        assert set(connection.execute(select(import_runs.c.id)).scalars()) == set(run_keys[1:])
        assert set(connection.execute(select(import_rows.c.id)).scalars()) == set(row_ids[1:])
        assert connection.execute(select(func.count()).select_from(import_run_rows)).scalar() == 4
    # keep_import_runs=0 still keeps the newest import of each source.
    purge(database.engine, Policy(keep_import_runs=0), NOW)
    with database.engine.connect() as connection:
        assert list(connection.execute(select(import_runs.c.id)).scalars()) == [run_keys[2]]


def test_deployments_keep_the_newest_and_each_targets_last_good_one(database: Database) -> None:
    statuses = ["deployed", "failed", "deployed", "failed", "failed", "failed"]
    with database.engine.begin() as connection:
        ids = [
            connection.execute(
                insert(deployments).values(
                    target="directory:/x" if i != 0 else "directory:/other",
                    checksum="c",
                    status=status,
                    files=[],
                    output="",
                    started_at=NOW,
                    finished_at=NOW,
                    duration_seconds=0.1,
                )
            ).inserted_primary_key[0]
            for i, status in enumerate(statuses)
        ]
    removed = purge(database.engine, Policy(keep_deployments=2), NOW)
    with database.engine.connect() as connection:
        kept = set(connection.execute(select(deployments.c.id)).scalars())
    # newest two (4, 5) + last good of directory:/x (2) + last good of directory:/other (0)
    assert kept == {ids[0], ids[2], ids[4], ids[5]}
    assert removed.deployments == 2


def test_as_a_job_through_the_cli(db_url: str) -> None:
    database = Database.open(db_url)
    for _ in range(3):
        add_run(database, "noise", 400)
    database.dispose()
    assert (
        invoke(
            db_url,
            "jobs",
            "add",
            "hk",
            "--type",
            "housekeeping",
            "--parameters",
            '{"keep_runs_days": 7}',
        ).exit_code
        == 0
    )
    result = invoke(db_url, "jobs", "run", "hk")
    assert result.exit_code == 0, result.stderr
    [run] = json.loads(invoke(db_url, "jobs", "history", "hk", "--json", "--output").stdout)
    assert run["status"] == "success"
    assert (
        "removed 3 runs, 0 sync runs, 0 import runs, 0 unused import rows, 0 deployments"
        in run["output"]
    )
    all_runs = json.loads(invoke(db_url, "jobs", "history", "--json").stdout)
    assert [r["job"] for r in all_runs] == ["hk"]  # the three year-old runs are gone


def test_bad_parameters_are_refused(sqlite_url: str) -> None:
    result = invoke(
        sqlite_url,
        "jobs",
        "add",
        "hk",
        "--type",
        "housekeeping",
        "--parameters",
        '{"keep_runs_per_job": 0}',
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "director: error: parameters.keep_runs_per_job: invalid value 0: "
        "expected a whole number >= 1"
    )


def test_a_running_run_neither_goes_nor_counts_against_the_per_job_limit(
    database: Database,
) -> None:
    older = add_run(database, "c", 2)
    newest_finished = add_run(database, "c", 1)
    running = add_run(database, "c", 0.5, status="running")  # the newest of the three
    removed = purge(database.engine, Policy(keep_runs_days=30, keep_runs_per_job=1), NOW)
    assert removed.runs == 1
    assert run_ids(database) == {newest_finished, running}  # the one kept is a finished run
    assert older not in run_ids(database)


def test_sync_runs_older_than_the_cutoff_go(database: Database) -> None:
    with database.engine.begin() as connection:
        rule = connection.execute(
            insert(sync_rules).values(
                name="hosts",
                source="cmdb",
                object_type="host",
                properties={"object_name": "${host}"},
                update_policy="merge",
                purge=False,
                description="",
                created_at=NOW,
                updated_at=NOW,
            )
        ).inserted_primary_key[0]
        ids = [
            connection.execute(
                insert(sync_runs).values(
                    rule_id=rule,
                    started_at=NOW - timedelta(days=age),
                    finished_at=NOW - timedelta(days=age),
                    created=0,
                    modified=0,
                    deleted=0,
                )
            ).inserted_primary_key[0]
            for age in (45, 31, 29, 1)
        ]
    removed = purge(database.engine, Policy(keep_runs_days=30), NOW)
    assert removed.sync_runs == 2
    with database.engine.connect() as connection:
        assert set(connection.execute(select(sync_runs.c.id)).scalars()) == set(ids[2:])


def test_vacuum_gives_the_freed_pages_back_on_sqlite(database: Database) -> None:
    for number in range(300):
        with database.engine.begin() as connection:
            connection.execute(
                insert(runs).values(
                    job_name=f"noisy-{number % 3}",
                    job_type="command",
                    status="success",
                    trigger="schedule",
                    attempt=1,
                    started_at=NOW - timedelta(days=60),
                    finished_at=NOW - timedelta(days=60),
                    output="x" * 16_384,  # 16 KiB of output each: about 5 MiB in all
                )
            )
    purge(database.engine, Policy(keep_runs_days=30), NOW)
    if database.engine.dialect.name != "sqlite":
        assert vacuum(database.engine) is False  # PostgreSQL's autovacuum does this
        return
    with database.engine.connect() as connection:
        free_before = connection.exec_driver_sql("PRAGMA freelist_count").scalar()
    assert free_before is not None and free_before > 1000  # 4 KiB pages left empty
    assert vacuum(database.engine) is True
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA freelist_count").scalar() == 0
