"""config-deploy through the REST API of a real `icinga2 daemon` started on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from icinga import ICINGA_ETC, IcingaDaemon, icinga_daemon, require_icinga2, tree_snapshot
from test_deploy_support import SAMPLE, deployment_rows, put_objects, run_deploy

from director_jobs.model import RunStatus

ICINGA_VAR = Path("/var/lib/icinga2")


@pytest.fixture(scope="module")
def daemon() -> Iterator[IcingaDaemon]:
    """One daemon for the module; nothing of it lands in /etc/icinga2 or /var/lib/icinga2."""
    icinga2 = require_icinga2()
    before = tree_snapshot(ICINGA_ETC, ICINGA_VAR)
    with icinga_daemon(icinga2) as started:
        yield started
    assert not started.alive(), "an icinga2 process survived stop()"
    assert tree_snapshot(ICINGA_ETC, ICINGA_VAR) == before


@pytest.fixture
def password_file(daemon: IcingaDaemon, tmp_path: Path) -> Path:
    """The ApiUser's password in a file, as an administrator would keep it."""
    path = tmp_path / "api-password"
    path.write_text(daemon.password + "\n")
    path.chmod(0o600)
    return path


def api_params(daemon: IcingaDaemon, password_file: Path, **extra: Any) -> dict[str, Any]:
    """icinga2-api parameters for the test daemon (the certificate names the CN, not the IP)."""
    return {
        "target": "icinga2-api",
        "url": daemon.url,
        "user": daemon.user,
        "password_file": str(password_file),
        "ca_file": str(daemon.ca_file),
        "tls_server_name": daemon.cn,
        "timeout": 60,
        **extra,
    }


def test_a_valid_stage_becomes_active_and_its_objects_appear(
    daemon: IcingaDaemon, db_url: str, password_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    package = "director-jobs"  # the default; SAMPLE's objects live in this package only
    put_objects(db_url, SAMPLE)

    outcome, ctx = run_deploy(db_url, api_params(daemon, password_file))

    assert outcome.status is RunStatus.SUCCESS, outcome.error
    [row] = deployment_rows(db_url)
    assert row["status"] == "deployed"
    assert row["target"] == f"icinga2-api:{daemon.url}/{package}"
    assert row["files"][0].startswith("zones.d/master/")
    assert row["stage"] and daemon.active_stage(package) == row["stage"]
    assert "Finished validating the configuration" in row["output"]  # the startup log
    assert f"stage {row['stage']} is active" in outcome.summary
    host = daemon.wait_for_host("web01")
    assert host["address"] == "192.0.2.10" and host["zone"] == "master"
    assert host["vars"] == {
        "os": "linux",
        "tags": ["a", "b"],
        "http_vhosts": {"shop": {"port": 443}},
    }
    assert host["package"] == package
    status, answer = daemon.get_json("/v1/objects/services/web01!http")
    assert status == 200 and answer["results"][0]["attrs"]["vars"]["http_vhost"] == "$host.name$"
    assert daemon.password not in caplog.text + ctx.output.text()


def test_an_invalid_stage_fails_and_the_active_stage_stays(
    daemon: IcingaDaemon, sqlite_url: str, password_file: Path
) -> None:
    package = "director-jobs"
    put_objects(sqlite_url, SAMPLE)
    assert run_deploy(sqlite_url, api_params(daemon, password_file))[0].status is (
        RunStatus.SUCCESS
    )
    active = daemon.active_stage(package)
    daemon.wait_for_host("db01")

    put_objects(sqlite_url, [*SAMPLE, ("host", "broken", {"check_command": "no-such-command"})])
    outcome, ctx = run_deploy(sqlite_url, api_params(daemon, password_file, force=True))

    assert outcome.status is RunStatus.ERROR and outcome.error is not None
    row = deployment_rows(sqlite_url)[-1]
    assert row["status"] == "failed" and row["stage"] and row["stage"] != active
    assert f"icinga2 rejected stage {row['stage']} (status 1); stage {active} stays active" in (
        outcome.error
    )
    assert "no-such-command" in row["output"]  # the stage's startup.log
    assert "no-such-command" in ctx.output.text()
    assert daemon.active_stage(package) == active
    assert daemon.get_json("/v1/objects/hosts/broken")[0] == 404
    assert daemon.wait_for_host("db01")["address"] == "192.0.2.20"


def test_the_package_is_created_once_and_old_stages_are_removed(
    daemon: IcingaDaemon, sqlite_url: str, password_file: Path
) -> None:
    package = "dj-stages"
    assert package not in {p["name"] for p in daemon.get_json("/v1/config/packages")[1]["results"]}
    put_objects(sqlite_url, [("host", "stage-host", {"check_command": "hostalive"})])
    settings = api_params(daemon, password_file, package=package, force=True)

    for _ in range(3):
        outcome, _ = run_deploy(sqlite_url, settings)
        assert outcome.status is RunStatus.SUCCESS, outcome.error

    stages = [r["stage"] for r in deployment_rows(sqlite_url)]
    assert len(set(stages)) == 3
    [entry] = [
        p for p in daemon.get_json("/v1/config/packages")[1]["results"] if p["name"] == package
    ]
    # Inactive stages go before each upload: the one active then stays until the next.
    assert sorted(entry["stages"]) == sorted(stages[-2:]) and entry["active-stage"] == stages[-1]


def test_unchanged_configuration_uploads_no_stage(
    daemon: IcingaDaemon, sqlite_url: str, password_file: Path
) -> None:
    package = "dj-unchanged"
    put_objects(sqlite_url, [("host", "same-host", {"check_command": "hostalive"})])
    settings = api_params(daemon, password_file, package=package)
    run_deploy(sqlite_url, settings)
    active = daemon.active_stage(package)

    outcome, _ = run_deploy(sqlite_url, settings)

    assert "unchanged" in outcome.summary
    assert daemon.active_stage(package) == active
    assert [r["status"] for r in deployment_rows(sqlite_url)] == ["deployed", "unchanged"]


def test_environment_proxies_never_apply(
    daemon: IcingaDaemon, sqlite_url: str, password_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: nothing answers
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    put_objects(sqlite_url, [("host", "proxy-host", {"check_command": "hostalive"})])
    outcome, _ = run_deploy(sqlite_url, api_params(daemon, password_file, package="dj-proxy"))
    assert outcome.status is RunStatus.SUCCESS, outcome.error


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"tls_server_name": None}, "certificate verify failed"),  # 127.0.0.1 is not the CN
        ({"ca_file": "/etc/ssl/certs/ca-certificates.crt"}, "certificate verify failed"),
        ({"password": "wrong", "password_file": None}, "HTTP 401"),
    ],
)
def test_tls_and_credentials_are_checked(
    daemon: IcingaDaemon,
    sqlite_url: str,
    password_file: Path,
    change: dict[str, Any],
    complaint: str,
) -> None:
    put_objects(sqlite_url, [("host", "h", {"check_command": "hostalive"})])
    settings = {**api_params(daemon, password_file, package="dj-refused"), **change}
    outcome, ctx = run_deploy(sqlite_url, settings)
    assert outcome.status is RunStatus.ERROR and outcome.error is not None
    assert complaint in outcome.error
    assert daemon.password not in outcome.error + ctx.output.text()
    assert deployment_rows(sqlite_url)[-1]["status"] == "failed"


def test_verify_tls_false_works_and_warns(
    daemon: IcingaDaemon, sqlite_url: str, password_file: Path
) -> None:
    put_objects(sqlite_url, [("host", "unverified", {"check_command": "hostalive"})])
    settings = api_params(
        daemon, password_file, package="dj-unverified", verify_tls=False, ca_file=None
    )
    settings.pop("tls_server_name")
    outcome, ctx = run_deploy(sqlite_url, settings)
    assert outcome.status is RunStatus.SUCCESS, outcome.error
    assert f"WARNING: TLS certificate verification is off for {daemon.url}" in ctx.output.text()


def test_a_zone_the_daemon_does_not_know_fails_the_stage(
    daemon: IcingaDaemon, sqlite_url: str, password_file: Path
) -> None:
    put_objects(sqlite_url, [("host", "zoneless", {"check_command": "hostalive"})])
    settings = api_params(daemon, password_file, package="dj-zone", zone="no-such-zone")
    outcome, _ = run_deploy(sqlite_url, settings)
    assert outcome.status is RunStatus.ERROR, outcome.summary
    assert "no-such-zone" in deployment_rows(sqlite_url)[-1]["output"]
