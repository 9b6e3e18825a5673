"""`director deployments …`, `director config render`, parameters, and the real runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke, run_director
from icinga import require_icinga2
from test_deploy_support import SAMPLE, put_objects, run_deploy

from director_jobs.deploy.render import HEADER
from director_jobs.errors import InvalidInput
from director_jobs.job_types.config_deploy import ConfigDeployJob

GOLDEN = Path(__file__).parent / "data" / "deploy"


def deploy_twice(url: str, tmp_path: Path) -> None:
    """One deployed and one unchanged record (no validation: the CLI is under test here)."""
    put_objects(url, SAMPLE)
    settings = {"target": "directory", "path": str(tmp_path / "out"), "validate": False}
    run_deploy(url, settings)
    run_deploy(url, settings)


# -- deployments list / show -----------------------------------------------------------------


def test_deployments_list_as_table_and_json(sqlite_url: str, tmp_path: Path) -> None:
    assert invoke(sqlite_url, "deployments", "list").output == "no deployments yet\n"
    deploy_twice(sqlite_url, tmp_path)

    table = invoke(sqlite_url, "deployments", "list")
    assert table.exit_code == 0
    header, newest, oldest = table.output.splitlines()
    assert header.split() == [
        "ID", "STARTED", "JOB", "TARGET", "STATUS", "FILES", "DURATION", "CHECKSUM"
    ]  # fmt: skip
    assert newest.startswith("2 ") and "unchanged" in newest and f"directory:{tmp_path}" in newest
    assert oldest.startswith("1 ") and "deployed" in oldest and " 6 " in oldest

    data = json.loads(invoke(sqlite_url, "deployments", "list", "--json", "--limit", "1").output)
    assert [d["id"] for d in data] == [2]
    assert set(data[0]) == {
        "id", "job", "target", "status", "checksum", "files", "stage", "started_at",
        "finished_at", "duration",
    }  # fmt: skip
    assert data[0]["started_at"].endswith("Z") and data[0]["job"] == "deploy"


def test_deployments_show_with_output(sqlite_url: str, tmp_path: Path) -> None:
    put_objects(sqlite_url, [("host", "bad!name", {})])
    run_deploy(sqlite_url, {"target": "directory", "path": str(tmp_path / "o"), "validate": False})

    shown = invoke(sqlite_url, "deployments", "show", "1")
    assert shown.exit_code == 0
    assert "status:    failed" in shown.output
    assert "output:\n  object host 'bad!name'" in shown.output

    data = json.loads(invoke(sqlite_url, "deployments", "show", "1", "--json").output)
    assert data["status"] == "failed" and "bad!name" in data["output"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("deployments", "show", "99"), "director: error: deployment 99: no such deployment\n"),
        (("deployments", "show", "x"), "'x' is not a valid integer"),
        (("deployments", "list", "--limit", "0"), "0 is not in the range x>=1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    sqlite_url: str, args: tuple[str, ...], message: str
) -> None:
    result = invoke(sqlite_url, *args)
    assert result.exit_code == 2
    assert message in result.output


# -- config render ---------------------------------------------------------------------------


def rendered(folder: Path) -> dict[str, str]:
    """Relative path → text of every file below `folder`."""
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_config_render_writes_the_golden_files(sqlite_url: str, tmp_path: Path) -> None:
    put_objects(sqlite_url, SAMPLE)
    out = tmp_path / "rendered"
    result = invoke(sqlite_url, "config", "render", str(out))
    assert result.exit_code == 0, result.output
    assert rendered(out) == rendered(GOLDEN / "flat")
    assert f"{len(SAMPLE)} objects in 6 files, checksum " in result.output

    zones = tmp_path / "zones"
    assert invoke(sqlite_url, "config", "render", str(zones), "--zone", "master").exit_code == 0
    assert rendered(zones) == rendered(GOLDEN / "zones")


def test_config_render_refuses_a_non_empty_directory_unless_forced(
    sqlite_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "rendered"
    out.mkdir()
    (out / "users.conf").write_text(HEADER + "\n// an older rendering\n")
    (out / "keep.txt").write_text("mine\n")
    put_objects(sqlite_url, [row for row in SAMPLE if row[0] == "host"])

    refused = invoke(sqlite_url, "config", "render", str(out))
    assert refused.exit_code == 2
    assert refused.output == (
        f"director: error: DIR: invalid value '{out}': is not empty; use --force to write into it\n"
    )
    forced = invoke(sqlite_url, "config", "render", str(out), "--force")
    assert forced.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["hosts.conf", "keep.txt"]

    # A file of one of our names that we did not write is never replaced, even with --force.
    (out / "users.conf").write_text('object User "admin" { }\n')
    refused = invoke(sqlite_url, "config", "render", str(out), "--force")
    assert refused.exit_code == 1
    assert refused.output == (
        f"director: error: {out / 'users.conf'} was not written by director-jobs; it is neither "
        "replaced nor removed (move it away, or deploy into a folder of its own)\n"
    )
    assert (out / "users.conf").read_text() == 'object User "admin" { }\n'


def test_config_render_bad_zone_and_file_target(sqlite_url: str, tmp_path: Path) -> None:
    bad = invoke(sqlite_url, "config", "render", str(tmp_path / "x"), "--zone", "../etc")
    assert bad.exit_code == 2 and "zone: invalid value '../etc'" in bad.output
    (tmp_path / "file").write_text("")
    not_dir = invoke(sqlite_url, "config", "render", str(tmp_path / "file"))
    assert not_dir.exit_code == 2 and "is not a directory" in not_dir.output


def test_config_render_validate_uses_the_real_icinga2(sqlite_url: str, tmp_path: Path) -> None:
    require_icinga2()
    put_objects(sqlite_url, SAMPLE)
    good = invoke(sqlite_url, "config", "render", str(tmp_path / "good"), "--validate")
    assert good.exit_code == 0 and good.output.endswith("valid\n")
    put_objects(sqlite_url, [("host", "h", {"check_command": "missing-command"})])
    bad = invoke(sqlite_url, "config", "render", str(tmp_path / "bad"), "--validate")
    assert bad.exit_code == 1 and "missing-command" in bad.output


def test_an_unrenderable_object_is_an_error_naming_it(sqlite_url: str, tmp_path: Path) -> None:
    put_objects(sqlite_url, [("host", "a!b", {})])
    result = invoke(sqlite_url, "config", "render", str(tmp_path / "x"))
    assert result.exit_code == 1
    assert result.output.startswith("director: error: object host 'a!b':")


# -- parameters ------------------------------------------------------------------------------


def test_default_parameters_are_shown(sqlite_url: str) -> None:
    result = invoke(sqlite_url, "jobs", "default-parameters", "config-deploy")
    defaults = json.loads(result.output)
    assert defaults["target"] == "directory" and defaults["validate"] is True
    assert defaults["validate_command"] == "icinga2 daemon -C"
    assert defaults["grace_period"] == 600 and defaults["deploy_when_changed"] is True
    assert defaults["package"] == "director-jobs" and defaults["zone"] == "master"


API = {
    "target": "icinga2-api",
    "url": "https://icinga:5665",
    "user": "director",
    "password": "s3cret",
}


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        ({"target": "ftp"}, "parameters.target", 'expected "directory" or "icinga2-api"'),
        ({"target": "directory"}, "parameters.path", "required with target directory"),
        ({"path": "relative/dir"}, "parameters.path", "expected an absolute path"),
        ({"path": "/d", "url": "https://x:5665"}, "parameters.url", "only used with target"),
        ({"path": "/d", "validate_command": "icinga2 'daemon"}, "parameters.validate_command", ""),
        ({"path": "/d", "validate_includes": ["rel.conf"]}, "parameters.validate_includes", ""),
        ({"path": "/d", "reload_command": []}, "parameters.reload_command", ""),
        ({"path": "/d", "grace_period": -1}, "parameters.grace_period", ">= 0"),
        ({"path": "/d", "timeout": 0}, "parameters.timeout", "> 0"),
        ({"path": "/d", "escape_macros": "some"}, "parameters.escape_macros", "unbalanced"),
        ({**API, "url": "http://icinga:5665"}, "parameters.url", "expected https://host:port"),
        ({**API, "url": "https://icinga:99999"}, "parameters.url", "port"),
        ({**API, "url": "https://u:p@icinga:5665"}, "parameters.url", "user and password"),
        ({**API, "user": None}, "parameters.user", "required"),
        ({**API, "password_file": "/f"}, "parameters.password", "exactly one"),
        ({**API, "password": None}, "parameters.password", "exactly one"),
        ({**API, "package": "_api"}, "parameters.package", ""),
        ({**API, "zone": "../x"}, "parameters.zone", ""),
        ({**API, "path": "/d"}, "parameters.path", "only used with target directory"),
        ({**API, "reload_command": "x"}, "parameters.reload_command", "only used with target"),
        ({"path": "/d", "password": "s3cret"}, "parameters.password", "'***'"),
    ],
)
def test_bad_parameters_name_the_field(params: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ConfigDeployJob().validate(params)
    assert caught.value.field == field
    assert text in str(caught.value)
    assert "s3cret" not in str(caught.value) and "u:p@" not in str(caught.value)


def test_execute_with_bad_parameters_exits_2(sqlite_url: str) -> None:
    result = invoke(
        sqlite_url, "jobs", "execute", "config-deploy", "--parameters", '{"target": "nope"}'
    )
    assert result.exit_code == 2 and "parameters.target" in result.output


# -- the real runner: a job definition, run in a forked child --------------------------------


def test_a_defined_job_deploys_through_the_runner(sqlite_url: str, tmp_path: Path) -> None:
    icinga2 = require_icinga2()
    put_objects(sqlite_url, SAMPLE)
    target = tmp_path / "director"
    parameters = {"path": str(target), "validate_command": [icinga2, "daemon", "-C"]}
    added = run_director(
        sqlite_url,
        "jobs", "add", "deploy-config", "--type", "config-deploy",
        "--parameters", json.dumps(parameters),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    ran = run_director(sqlite_url, "jobs", "run", "deploy-config", "--verbose")
    assert ran.returncode == 0, ran.stderr
    assert (target / "hosts.conf").exists()
    listed = json.loads(run_director(sqlite_url, "deployments", "list", "--json").stdout)
    assert [(d["job"], d["status"]) for d in listed] == [("deploy-config", "deployed")]

    put_objects(sqlite_url, [*SAMPLE, ("host", "broken", {"check_command": "nope"})])
    changed = {**parameters, "force": True}
    run_director(sqlite_url, "jobs", "set", "deploy-config", "--parameters", json.dumps(changed))
    failed = run_director(sqlite_url, "jobs", "run", "deploy-config")
    assert failed.returncode == 1
    assert "deployment 2 failed: icinga2 rejected the configuration" in failed.stderr
