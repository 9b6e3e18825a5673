"""An empty or truncated source cannot wipe the monitoring: an import that loses too many rows
and a sync that would purge too many objects are refused, saying how to allow them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke

DEFINITIONS = """\
[imports.cmdb]
provider = "{provider}"
key_column = "hostname"
settings = {{ path = "{path}" }}
{import_extra}

[sync_rules.hosts]
source = "cmdb"
object_type = "host"
purge = true
{sync_extra}

[sync_rules.hosts.properties]
object_name = "${{hostname}}"

[jobs.import-cmdb]
type = "import"
parameters = {{ source = "cmdb" }}

[jobs.sync-hosts]
type = "sync"
parameters = {{ rule = "hosts" }}
"""
HOSTS = 10


def write_csv(path: Path, count: int) -> None:
    rows = "".join(f"host{n:02d}\n" for n in range(count))
    path.write_text("hostname\n" + rows, encoding="utf-8")


def define(url: str, tmp_path: Path, *, provider: str = "csv", **extra: str) -> Path:
    source = tmp_path / ("hosts.json" if provider == "json" else "hosts.csv")
    text = DEFINITIONS.format(
        provider=provider,
        path=source,
        import_extra=extra.get("import_extra", ""),
        sync_extra=extra.get("sync_extra", ""),
    )
    (tmp_path / "jobs.toml").write_text(text, encoding="utf-8")
    applied = invoke(url, "apply", str(tmp_path / "jobs.toml"))
    assert applied.exit_code == 0, applied.output
    return source


def run(url: str, *names: str) -> tuple[int, dict[str, Any]]:
    """Run the jobs by hand; return the exit code and each job's newest run."""
    result = invoke(url, "jobs", "run", *names)
    history = json.loads(invoke(url, "jobs", "history", "--json", "--output").stdout)
    newest: dict[str, Any] = {}
    for entry in history:
        newest.setdefault(entry["job"], entry)
    return result.exit_code, newest


def hosts(url: str) -> int:
    return len(json.loads(invoke(url, "objects", "list", "--json").stdout))


def full_import(url: str, tmp_path: Path, **extra: str) -> Path:
    source = define(url, tmp_path, **extra)
    write_csv(source, HOSTS)
    code, runs = run(url, "import-cmdb", "sync-hosts")
    assert code == 0, runs
    assert hosts(url) == HOSTS
    return source


@pytest.mark.parametrize("provider", ["csv", "json"])
def test_an_empty_but_valid_export_is_refused_and_nothing_is_deleted(
    db_url: str, tmp_path: Path, provider: str
) -> None:
    source = define(db_url, tmp_path, provider=provider)
    if provider == "json":
        source.write_text(json.dumps([{"hostname": f"h{n}"} for n in range(HOSTS)]))
    else:
        write_csv(source, HOSTS)
    assert run(db_url, "import-cmdb", "sync-hosts")[0] == 0
    source.write_text("[]" if provider == "json" else "hostname\n", encoding="utf-8")

    code, runs = run(db_url, "import-cmdb", "sync-hosts")

    assert code == 1
    assert runs["import-cmdb"]["status"] == "error"
    assert runs["import-cmdb"]["error"] == (
        f"import source 'cmdb': refused: the rows would shrink from {HOSTS} to 0 (100% fewer, "
        "none may go); nothing was stored. If that is right, set allow_shrink = true (or a "
        'share such as "90%") in [imports.cmdb], or run the import job once with '
        "`director jobs run NAME --force`"
    )
    assert runs["sync-hosts"]["status"] == "success"  # on the last good import
    assert hosts(db_url) == HOSTS


def test_a_shrink_by_more_than_half_is_refused_and_by_less_is_taken(
    db_url: str, tmp_path: Path
) -> None:
    source = full_import(db_url, tmp_path, sync_extra='max_purge = "100%"')
    write_csv(source, 4)  # 60 % fewer
    code, runs = run(db_url, "import-cmdb")
    assert (
        code == 1 and "from 10 to 4 (60% fewer, at most 50% may go)" in runs["import-cmdb"]["error"]
    )
    write_csv(source, 6)  # 40 % fewer
    code, runs = run(db_url, "import-cmdb", "sync-hosts")
    assert code == 0, runs
    assert hosts(db_url) == 6


def test_allow_shrink_and_force_let_an_import_shrink(db_url: str, tmp_path: Path) -> None:
    source = full_import(db_url, tmp_path, sync_extra='max_purge = "100%"')
    write_csv(source, 0)

    forced = run(db_url, "import-cmdb", "--force")
    assert forced[0] == 0, forced[1]
    write_csv(source, 5)
    define(db_url, tmp_path, import_extra='allow_shrink = "10%"', sync_extra='max_purge = "100%"')
    # From 0 rows nothing can shrink; back to 5, then to 4 (20 %, more than 10 %): refused.
    assert run(db_url, "import-cmdb")[0] == 0
    write_csv(source, 4)
    assert run(db_url, "import-cmdb")[0] == 1
    define(db_url, tmp_path, import_extra="allow_shrink = true", sync_extra='max_purge = "100%"')
    write_csv(source, 0)
    assert run(db_url, "import-cmdb", "sync-hosts")[0] == 0
    assert hosts(db_url) == 0


def test_a_sync_that_would_purge_more_than_a_fifth_is_refused(db_url: str, tmp_path: Path) -> None:
    source = full_import(db_url, tmp_path)
    write_csv(source, 7)  # 30 % fewer: the import may, the purge may not

    code, runs = run(db_url, "import-cmdb", "sync-hosts")

    assert code == 1
    assert runs["import-cmdb"]["status"] == "success"
    assert runs["sync-hosts"]["error"] == (
        "sync rule 'hosts': refused: it would delete 3 of the 10 objects it made (30%, more "
        'than max_purge 20%); nothing was changed. If that is right, set max_purge = "100%" '
        "in [sync_rules.hosts], or run the sync job once with `director jobs run NAME --force`"
    )
    assert hosts(db_url) == HOSTS
    forced_code, forced = run(db_url, "sync-hosts", "--force")
    assert forced_code == 0, forced
    assert hosts(db_url) == 7


def test_a_small_purge_is_applied(db_url: str, tmp_path: Path) -> None:
    source = full_import(db_url, tmp_path)
    write_csv(source, 8)  # 20 %: within the default limit

    code, runs = run(db_url, "import-cmdb", "sync-hosts")

    assert code == 0, runs
    assert hosts(db_url) == 8


def test_the_limits_round_trip_through_export(db_url: str, other_url: str, tmp_path: Path) -> None:
    define(db_url, tmp_path, import_extra='allow_shrink = "80%"', sync_extra='max_purge = "35%"')
    exported = invoke(db_url, "export").stdout
    assert 'allow_shrink = "80%"' in exported and 'max_purge = "35%"' in exported
    (tmp_path / "again.toml").write_text(exported, encoding="utf-8")
    assert invoke(other_url, "apply", str(tmp_path / "again.toml")).exit_code == 0
    assert invoke(other_url, "export").stdout == exported


@pytest.mark.parametrize(
    ("extra", "field", "value"),
    [
        ({"import_extra": "allow_shrink = 0.5"}, "imports.cmdb.allow_shrink", "0.5"),
        ({"import_extra": 'allow_shrink = "150%"'}, "imports.cmdb.allow_shrink", "'150%'"),
        ({"sync_extra": "max_purge = false"}, "sync_rules.hosts.max_purge", "False"),
    ],
)
def test_bad_limits_are_refused(
    db_url: str, tmp_path: Path, extra: dict[str, str], field: str, value: str
) -> None:
    source_text = DEFINITIONS.format(
        provider="csv",
        path=tmp_path / "hosts.csv",
        import_extra=extra.get("import_extra", ""),
        sync_extra=extra.get("sync_extra", ""),
    )
    (tmp_path / "jobs.toml").write_text(source_text, encoding="utf-8")

    result = invoke(db_url, "apply", str(tmp_path / "jobs.toml"))

    assert result.exit_code == 2
    assert result.stderr == (
        f"director: error: {field}: invalid value {value}: "
        'expected a percentage such as "20%", or true for any\n'
    )
    assert invoke(db_url, "export").stdout.count("[") == 0


def test_force_needs_job_names(db_url: str) -> None:
    result = invoke(db_url, "jobs", "run", "--force")
    assert result.exit_code == 2
    assert "--force needs job names" in result.stderr
