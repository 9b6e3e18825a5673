"""End to end: `director jobs add --type import/sync` and `jobs run` as real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_director

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.imports.service import ImportService
from director_jobs.imports.spec import SourceSpec
from director_jobs.sync.service import SyncService
from director_jobs.sync.spec import RuleSpec


def define(url: str, csv: Path) -> None:
    """The source `cmdb` and the rule `hosts` (what `director apply` will write)."""
    database = Database.open(url)
    clock = SystemClock()
    source = SourceSpec(
        "cmdb",
        "csv",
        "hostname",
        {"path": str(csv)},
        ({"column": "hostname", "modifier": "lowercase"},),
    )
    rule = RuleSpec(
        "hosts",
        "cmdb",
        "host",
        {"object_name": "${hostname}", "address": "${ip}", "imports": ["generic-host"]},
        purge=True,
        max_purge=1.0,  # two hosts: one vanishing is half of them (test_pipeline_guards.py)
    )
    with database.engine.begin() as connection:
        ImportService(database.engine, clock).apply_in(connection, [source], clock.now())
        SyncService(database.engine, clock).apply_in(connection, [rule], clock.now())
    database.dispose()


def last_run(url: str, job: str) -> dict[str, object]:
    """The newest run of `job` as `jobs history --json --output` shows it."""
    result = run_director(url, "jobs", "history", job, "--json", "--output")
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    return dict(runs[0])


@pytest.mark.slow
def test_import_and_sync_jobs_through_the_cli(sqlite_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "hosts.csv"
    csv.write_text("hostname,ip\nWEB01,10.0.0.1\nweb02,10.0.0.2\n", encoding="utf-8")
    define(sqlite_url, csv)
    for name, kind, parameters in (
        ("import-cmdb", "import", {"source": "cmdb"}),
        ("sync-hosts", "sync", {"rule": "hosts"}),
        ("check-hosts", "sync", {"rule": "*", "apply_changes": False}),
    ):
        added = run_director(
            sqlite_url, "jobs", "add", name, "--type", kind, "--parameters", json.dumps(parameters)
        )
        assert added.returncode == 0, added.stderr

    # A sync before any import fails, naming the rule and the source.
    early = run_director(sqlite_url, "jobs", "run", "sync-hosts")
    assert early.returncode == 1
    run = last_run(sqlite_url, "sync-hosts")
    assert run["status"] == "error"
    assert run["error"] == (
        "sync rule 'hosts': import source 'cmdb' has never imported: run its import job first"
    )

    imported = run_director(sqlite_url, "jobs", "run", "import-cmdb")
    assert imported.returncode == 0, imported.stderr
    run = last_run(sqlite_url, "import-cmdb")
    assert run["status"] == "success"
    assert "import source cmdb: 2 rows, stored as import run 1" in str(run["output"])

    checked = run_director(sqlite_url, "jobs", "run", "check-hosts")
    assert checked.returncode == 0
    assert "2 create / 0 modify / 0 delete" in str(last_run(sqlite_url, "check-hosts")["output"])

    synced = run_director(sqlite_url, "jobs", "run", "sync-hosts")
    assert synced.returncode == 0, synced.stderr
    objects = json.loads(run_director(sqlite_url, "objects", "list", "--json").stdout)
    assert [o["name"] for o in objects] == ["web01", "web02"]

    # A broken source fails the import job with the reason, and the sync purges nothing.
    csv.write_text("hostname,ip\nweb01\n", encoding="utf-8")
    failed = run_director(sqlite_url, "jobs", "run", "import-cmdb")
    assert failed.returncode == 1
    run = last_run(sqlite_url, "import-cmdb")
    assert run["status"] == "error"
    assert run["error"] == (
        f"import source 'cmdb': bad CSV in '{csv}' at line 2: 1 fields, expected 2"
    )
    assert run_director(sqlite_url, "jobs", "run", "sync-hosts").returncode == 0
    objects = json.loads(run_director(sqlite_url, "objects", "list", "--json").stdout)
    assert [o["name"] for o in objects] == ["web01", "web02"]

    # Good data again: the vanished host is purged.
    csv.write_text("hostname,ip\nweb01,10.0.0.1\n", encoding="utf-8")
    assert run_director(sqlite_url, "jobs", "run", "import-cmdb").returncode == 0
    assert run_director(sqlite_url, "jobs", "run", "sync-hosts").returncode == 0
    assert "0 create / 0 modify / 1 delete" in str(last_run(sqlite_url, "sync-hosts")["output"])
    objects = json.loads(run_director(sqlite_url, "objects", "list", "--json").stdout)
    assert [o["name"] for o in objects] == ["web01"]


def test_default_parameters_and_bad_parameters(sqlite_url: str) -> None:
    shown = run_director(sqlite_url, "jobs", "default-parameters", "import")
    assert json.loads(shown.stdout) == {"source": None, "run_import": True}
    shown = run_director(sqlite_url, "jobs", "default-parameters", "sync")
    assert json.loads(shown.stdout) == {"rule": None, "apply_changes": True}
    bad = run_director(
        sqlite_url, "jobs", "add", "x", "--type", "sync", "--parameters", '{"rule": 3}'
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "director: error: parameters.rule: invalid value 3: expected a string"
    )
    listed = json.loads(run_director(sqlite_url, "jobs", "list", "--json").stdout)
    assert listed == []
