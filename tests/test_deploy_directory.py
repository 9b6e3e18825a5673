"""config-deploy to a directory, validated by the real icinga2; records on both backends."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from icinga import ICINGA_ETC, require_icinga2, tree_snapshot
from test_deploy_support import NOW, SAMPLE, context, deployment_rows, put_objects, run_deploy

from director_jobs.clock import FakeClock
from director_jobs.deploy.render import MonitoringObject, render
from director_jobs.execution.inprocess import execute_in_process
from director_jobs.job_types.config_deploy import ConfigDeployJob
from director_jobs.model import RunStatus

GOLDEN = Path(__file__).parent / "data" / "deploy" / "flat"
ICINGA_VAR = Path("/var/lib/icinga2")


@pytest.fixture(autouse=True, scope="module")
def icinga_system_dirs_stay_untouched() -> Any:
    """Nothing any test here does may write under /etc/icinga2 or /var/lib/icinga2."""
    before = tree_snapshot(ICINGA_ETC, ICINGA_VAR)
    yield
    assert tree_snapshot(ICINGA_ETC, ICINGA_VAR) == before


@pytest.fixture
def icinga2() -> str:
    """The real icinga2 binary (fails in CI, skips locally when missing)."""
    return require_icinga2()


def params(path: Path, icinga2: str, **extra: Any) -> dict[str, Any]:
    """Directory-target parameters validated by the real icinga2."""
    return {
        "target": "directory",
        "path": str(path),
        "validate_command": [icinga2, "daemon", "-C"],
        **extra,
    }


def contents(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file below `folder`: its text and mtime (proof that nothing was rewritten)."""
    return {
        str(p.relative_to(folder)): (p.read_text(encoding="utf-8"), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def rendered_checksum(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """The checksum the renderer gives these objects."""
    return render([MonitoringObject(*row) for row in rows]).checksum


def test_a_valid_configuration_is_deployed_and_recorded(
    db_url: str, tmp_path: Path, icinga2: str
) -> None:
    put_objects(db_url, SAMPLE)
    target = tmp_path / "icinga" / "director"
    outcome, _ = run_deploy(db_url, params(target, icinga2))

    assert outcome.status is RunStatus.SUCCESS, outcome.error
    assert outcome.summary.startswith("deployment 1: deployed: 6 files, checksum ")
    assert {p: t for p, (t, _) in contents(target).items()} == {
        p.name: p.read_text(encoding="utf-8") for p in GOLDEN.iterdir()
    }
    [row] = deployment_rows(db_url)
    assert row["status"] == "deployed"
    assert row["target"] == f"directory:{target}"
    assert row["checksum"] == rendered_checksum(SAMPLE)
    assert row["files"] == sorted(p.name for p in GOLDEN.iterdir())
    assert "Finished validating the configuration" in row["output"]
    assert row["job_name"] == "deploy" and row["stage"] is None
    assert row["started_at"].utcoffset() == timedelta(0)
    assert row["finished_at"] >= row["started_at"] and row["duration_seconds"] > 0
    assert [p.name for p in target.parent.iterdir()] == ["director"]  # no staging left


@pytest.mark.parametrize(
    ("properties", "complaint"),
    [
        ({"check_command": "no-such-command"}, "no-such-command"),
        ({"check_command": "hostalive", "max_check_attempts": "many"}, "many"),
        ({"check_command": "hostalive", "no_such_attribute": 1}, "no_such_attribute"),
    ],
)
def test_an_invalid_configuration_fails_and_leaves_the_directory_unchanged(
    sqlite_url: str, tmp_path: Path, icinga2: str, properties: dict[str, Any], complaint: str
) -> None:
    put_objects(sqlite_url, SAMPLE)
    target = tmp_path / "director"
    assert run_deploy(sqlite_url, params(target, icinga2))[0].status is RunStatus.SUCCESS
    before = contents(target)

    put_objects(sqlite_url, [*SAMPLE, ("host", "broken", properties)])
    outcome, ctx = run_deploy(sqlite_url, params(target, icinga2, force=True))

    assert outcome.status is RunStatus.ERROR
    assert outcome.error is not None
    assert outcome.error.startswith("deployment 2 failed: icinga2 rejected the configuration")
    assert "director deployments show 2" in outcome.error
    assert contents(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["director", "jobs.db"]
    row = deployment_rows(sqlite_url)[-1]
    assert row["status"] == "failed" and complaint in row["output"]
    assert f"{target}/hosts.conf" in row["output"]  # the real path, not the staging folder
    assert "critical/config" in ctx.output.text()  # the reason is in the run's output too


def test_unchanged_configuration_is_not_deployed_again(
    db_url: str, tmp_path: Path, icinga2: str
) -> None:
    put_objects(db_url, SAMPLE)
    target = tmp_path / "director"
    run_deploy(db_url, params(target, icinga2))
    before = contents(target)

    outcome, _ = run_deploy(db_url, params(target, icinga2))

    assert outcome.status is RunStatus.SUCCESS
    assert outcome.summary.startswith(
        "deployment 2: unchanged: configuration unchanged since deployment 1"
    )
    assert contents(target) == before
    rows = deployment_rows(db_url)
    assert [r["status"] for r in rows] == ["deployed", "unchanged"]
    assert rows[1]["checksum"] == rows[0]["checksum"] and rows[1]["output"] == ""

    again, _ = run_deploy(
        db_url, params(target, icinga2, deploy_when_changed=False, grace_period=0)
    )
    assert again.status is RunStatus.SUCCESS and "deployed" in again.summary


def test_grace_period_and_force(sqlite_url: str, tmp_path: Path, icinga2: str) -> None:
    clock = FakeClock(NOW)
    target = tmp_path / "director"
    put_objects(sqlite_url, SAMPLE)
    assert run_deploy(sqlite_url, params(target, icinga2), clock)[0].status is RunStatus.SUCCESS

    clock.advance(60)
    put_objects(sqlite_url, [row for row in SAMPLE if row[0] not in ("user", "usergroup")])
    outcome, _ = run_deploy(sqlite_url, params(target, icinga2), clock)
    assert outcome.status is RunStatus.SUCCESS
    assert "skipped-grace" in outcome.summary and "grace period 600 s" in outcome.summary
    assert (target / "usergroups.conf").exists()

    clock.advance(60)  # skipped attempts do not restart the grace period
    outcome, _ = run_deploy(sqlite_url, params(target, icinga2, grace_period=100), clock)
    assert "deployed" in outcome.summary
    assert not (target / "usergroups.conf").exists()

    put_objects(sqlite_url, SAMPLE)
    outcome, _ = run_deploy(sqlite_url, params(target, icinga2, force=True), clock)
    assert "deployed" in outcome.summary
    statuses = [r["status"] for r in deployment_rows(sqlite_url)]
    assert statuses == ["deployed", "skipped-grace", "deployed", "deployed"]
    times = [r["started_at"] for r in deployment_rows(sqlite_url)]
    assert times == [NOW, NOW + timedelta(seconds=60), *[NOW + timedelta(seconds=120)] * 2]


def test_unchanged_compares_with_the_last_successful_deployment(
    sqlite_url: str, tmp_path: Path, icinga2: str
) -> None:
    target = tmp_path / "director"
    put_objects(sqlite_url, SAMPLE)
    run_deploy(sqlite_url, params(target, icinga2))
    put_objects(sqlite_url, [*SAMPLE, ("host", "broken", {"check_command": "nope"})])
    assert run_deploy(sqlite_url, params(target, icinga2, force=True))[0].status is RunStatus.ERROR

    put_objects(sqlite_url, SAMPLE)  # back to what is deployed
    outcome, _ = run_deploy(sqlite_url, params(target, icinga2))
    assert "unchanged since deployment 1" in outcome.summary


def test_vanished_object_types_lose_their_files_and_foreign_files_stay(
    sqlite_url: str, tmp_path: Path, icinga2: str
) -> None:
    target = tmp_path / "director"
    target.mkdir()
    (target / "README.txt").write_text("mine\n")
    put_objects(sqlite_url, SAMPLE)
    run_deploy(sqlite_url, params(target, icinga2))
    put_objects(sqlite_url, [row for row in SAMPLE if row[0] in ("host", "hostgroup")])

    outcome, _ = run_deploy(sqlite_url, params(target, icinga2, force=True))

    assert outcome.status is RunStatus.SUCCESS
    assert sorted(p.name for p in target.iterdir()) == [
        "README.txt",
        "hostgroups.conf",
        "hosts.conf",
    ]


def test_reload_command_runs_after_a_deployment(
    sqlite_url: str, tmp_path: Path, icinga2: str
) -> None:
    target = tmp_path / "director"
    marker = tmp_path / "reloaded"
    put_objects(sqlite_url, SAMPLE)
    reload = f"sh -c 'ls {target} > {marker}; echo reload done'"

    outcome, _ = run_deploy(sqlite_url, params(target, icinga2, reload_command=reload))

    assert outcome.status is RunStatus.SUCCESS and "deployed and reloaded" in outcome.summary
    assert "hosts.conf" in marker.read_text()  # the files were in place before the reload
    assert "reload done" in deployment_rows(sqlite_url)[-1]["output"]


def test_a_failing_reload_fails_the_run_and_is_retried_next_time(
    sqlite_url: str, tmp_path: Path, icinga2: str
) -> None:
    target = tmp_path / "director"
    put_objects(sqlite_url, SAMPLE)
    failing = ["sh", "-c", "echo cannot reload >&2; exit 3"]

    outcome, _ = run_deploy(sqlite_url, params(target, icinga2, reload_command=failing))

    assert outcome.status is RunStatus.ERROR
    assert outcome.error is not None and "reload command exited with 3" in outcome.error
    row = deployment_rows(sqlite_url)[-1]
    assert row["status"] == "failed" and "cannot reload" in row["output"]
    assert (target / "hosts.conf").exists()  # the files are in place, the reload is not
    retried, _ = run_deploy(sqlite_url, params(target, icinga2, reload_command=["true"]))
    assert retried.status is RunStatus.SUCCESS and "deployed and reloaded" in retried.summary


def test_missing_validator_fails_clearly_unless_validation_is_off(
    sqlite_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "director"
    put_objects(sqlite_url, SAMPLE)
    settings = {"target": "directory", "path": str(target)}

    missing = {**settings, "validate_command": "no-such-icinga2 daemon -C"}
    outcome, _ = run_deploy(sqlite_url, missing)
    assert outcome.status is RunStatus.ERROR and outcome.error is not None
    assert "'no-such-icinga2 daemon -C' is not installed" in outcome.error
    assert "parameters.validate to false" in outcome.error
    assert not target.exists()

    outcome, _ = run_deploy(sqlite_url, {**missing, "validate": False})
    assert outcome.status is RunStatus.SUCCESS
    assert (target / "hosts.conf").exists()
    assert deployment_rows(sqlite_url)[-1]["output"] == ""


def test_an_unrenderable_object_fails_the_run_and_is_recorded(
    sqlite_url: str, tmp_path: Path
) -> None:
    put_objects(sqlite_url, [*SAMPLE, ("host", "bad!name", {})])
    outcome, _ = run_deploy(sqlite_url, {"target": "directory", "path": str(tmp_path / "d")})
    assert outcome.status is RunStatus.ERROR and outcome.error is not None
    assert "object host 'bad!name'" in outcome.error
    [row] = deployment_rows(sqlite_url)
    assert row["status"] == "failed" and row["checksum"] == "" and row["files"] == []
    assert "bad!name" in row["output"]


def test_an_empty_object_table_deploys_an_empty_configuration(
    sqlite_url: str, tmp_path: Path, icinga2: str
) -> None:
    target = tmp_path / "director"
    put_objects(sqlite_url, SAMPLE)
    run_deploy(sqlite_url, params(target, icinga2))
    put_objects(sqlite_url, [])
    outcome, _ = run_deploy(sqlite_url, params(target, icinga2, force=True))
    assert outcome.status is RunStatus.SUCCESS and "0 files" in outcome.summary
    assert list(target.iterdir()) == []


def test_validation_includes_decide_what_templates_exist(
    sqlite_url: str, tmp_path: Path, icinga2: str
) -> None:
    templates = tmp_path / "templates.conf"
    templates.write_text('template Host "cmdb-host" { check_command = "hostalive" }\n')
    put_objects(sqlite_url, [("host", "h", {"imports": ["cmdb-host"]})])
    target = tmp_path / "director"

    outcome, _ = run_deploy(sqlite_url, params(target, icinga2))
    assert outcome.status is RunStatus.ERROR  # the stock includes know no "cmdb-host"
    includes = ["/etc/icinga2/constants.conf", "<itl>", "<plugins>", str(templates)]
    outcome, _ = run_deploy(sqlite_url, params(target, icinga2, validate_includes=includes))
    assert outcome.status is RunStatus.SUCCESS, outcome.error


def test_deployment_records_are_json_and_utc(sqlite_url: str, tmp_path: Path) -> None:
    put_objects(sqlite_url, SAMPLE)
    run_deploy(sqlite_url, {"target": "directory", "path": str(tmp_path / "d"), "validate": False})
    [row] = deployment_rows(sqlite_url)
    assert json.loads(json.dumps(row["files"])) == row["files"]
    assert row["started_at"].tzinfo is not None


def test_a_slow_validator_is_killed_at_the_timeout(sqlite_url: str, tmp_path: Path) -> None:
    put_objects(sqlite_url, SAMPLE)
    slow = {
        "target": "directory",
        "path": str(tmp_path / "d"),
        "validate_command": ["sh", "-c", "sleep 30"],
        "timeout": 0.5,
    }
    outcome, _ = run_deploy(sqlite_url, slow)
    assert outcome.status is RunStatus.ERROR and outcome.error is not None
    assert "validation took longer than 0.5 s" in outcome.error
    assert not (tmp_path / "d").exists()


def test_a_stop_request_is_recorded_as_a_failed_deployment(sqlite_url: str, tmp_path: Path) -> None:
    put_objects(sqlite_url, SAMPLE)
    job = ConfigDeployJob()
    ctx = context(sqlite_url)
    settings = {"path": str(tmp_path / "d"), "validate_command": ["sh", "-c", "sleep 30"]}
    threading.Timer(0.5, ctx.cancel.set).start()

    outcome = execute_in_process(job, job.validate(settings), ctx)

    assert outcome.status is RunStatus.STOPPED
    [row] = deployment_rows(sqlite_url)
    assert row["status"] == "failed" and "JobCancelled: stopped on request" in row["output"]
    assert not (tmp_path / "d").exists()


def test_a_file_of_a_managed_name_that_we_did_not_write_stays_untouched(
    sqlite_url: str, tmp_path: Path, icinga2: str
) -> None:
    """Pointed at a stock conf.d, a deployment must not replace or delete its services.conf."""
    target = tmp_path / "conf.d"
    target.mkdir()
    stock = 'apply Service "ping4" {\n  check_command = "ping4"\n  assign where host.address\n}\n'
    (target / "services.conf").write_text(stock)
    put_objects(sqlite_url, [row for row in SAMPLE if row[0] == "host"])

    outcome, _ = run_deploy(sqlite_url, params(target, icinga2))

    assert outcome.status is RunStatus.ERROR
    assert outcome.error is not None
    assert f"{target / 'services.conf'} was not written by director-jobs" in outcome.error
    assert sorted(p.name for p in target.iterdir()) == ["services.conf"]
    assert (target / "services.conf").read_text() == stock
    assert [r["status"] for r in deployment_rows(sqlite_url)] == ["failed"]


def test_force_deploys_an_unchanged_configuration_again(
    sqlite_url: str, tmp_path: Path, icinga2: str
) -> None:
    target = tmp_path / "director"
    put_objects(sqlite_url, SAMPLE)
    run_deploy(sqlite_url, params(target, icinga2))
    unchanged, _ = run_deploy(sqlite_url, params(target, icinga2, grace_period=0))
    assert "unchanged since deployment 1" in unchanged.summary
    forced, _ = run_deploy(sqlite_url, params(target, icinga2, force=True))
    assert forced.status is RunStatus.SUCCESS and "deployed" in forced.summary
    statuses = [r["status"] for r in deployment_rows(sqlite_url)]
    assert statuses == ["deployed", "unchanged", "deployed"]
