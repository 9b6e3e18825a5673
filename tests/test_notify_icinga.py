"""Job results pushed to a real icinga2 daemon as passive check results, on rendered Services."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from conftest import invoke, run_director, wait_for
from icinga import IcingaDaemon, require_icinga2

from director_jobs import exit_codes

HOST = "director-jobs-host"


def icinga_config(folder: Path, daemon: IcingaDaemon) -> Path:
    """A config file whose [icinga] channel posts to `daemon` as its root ApiUser."""
    password = folder / "icinga.password"
    password.write_text(daemon.password + "\n")
    config = folder / "config.toml"
    config.write_text(f"""
[icinga]
url = "{daemon.url}"
username = "{daemon.user}"
password_file = "{password}"
ca_file = "{daemon.ca_file}"
server_name = "{daemon.cn}"
host = "{HOST}"
""")
    return config


def service(daemon: IcingaDaemon, job: str) -> dict[str, Any]:
    """The attributes of Service HOST!job."""
    status, body = daemon.get_json(f"/v1/objects/services/{HOST}!{job}")
    assert status == 200, body
    attrs: dict[str, Any] = body["results"][0]["attrs"]
    return attrs


def test_job_results_become_service_states_in_icinga(sqlite_url: str, tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    for name, extra in (("flappy", ["--interval", "15m"]), ("by-hand", [])):
        result = invoke(
            sqlite_url, "jobs", "add", name, "--type", "command", *extra,
            "--parameters", json.dumps({"command": ["sh", "-c", f"echo rows; test -f {flag}"]}),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    daemon = IcingaDaemon(Path(tempfile.mkdtemp(prefix="director-jobs-icinga-")), require_icinga2())
    try:
        daemon.setup()
        config = icinga_config(tmp_path, daemon)
        env = {"DIRECTOR_JOBS_CONFIG": str(config)}
        rendered = run_director(
            sqlite_url, "config", "render", str(tmp_path / "out"), "--job-services", env=env
        )
        assert rendered.returncode == 0, rendered.stderr
        services = (tmp_path / "out" / "director-jobs-services.conf").read_text()
        shutil.copy(tmp_path / "out" / "director-jobs-services.conf", daemon.etc / "conf.d")
        (daemon.etc / "conf.d" / "host.conf").write_text(
            f'object Host "{HOST}" {{\n  check_command = "dummy"\n'
            "  enable_active_checks = false\n}\n"
        )
        daemon.start()  # starting validates the rendered Services
        flappy = service(daemon, "flappy")
        assert flappy["check_interval"] == 1800  # twice the interval: freshness
        assert flappy["enable_active_checks"] is True and flappy["vars"]["dummy_state"] == 3
        assert service(daemon, "by-hand")["enable_active_checks"] is False
        failed = run_director(sqlite_url, "jobs", "run", "flappy", env=env)
        assert failed.returncode == exit_codes.JOB_FAILED, failed.stderr

        def state(wanted: int) -> dict[str, Any] | None:
            result = service(daemon, "flappy").get("last_check_result") or {}
            return result if result.get("state") == wanted else None

        critical = wait_for(lambda: state(2), "Icinga to hold the failed run", seconds=120)
        flag.write_text("")
        assert run_director(sqlite_url, "jobs", "run", "flappy", env=env).returncode == 0
        ok = wait_for(lambda: state(0), "Icinga to hold the successful run", seconds=120)
    finally:
        daemon.stop()
        shutil.rmtree(daemon.folder, ignore_errors=True)
    assert 'object Service "flappy"' in services and f'host_name = "{HOST}"' in services
    assert critical["output"].startswith("flappy: error after ")
    assert "command exited with 1" in critical["output"]
    assert critical["performance_data"][0].startswith("duration=")
    assert ok["output"].startswith("flappy: success after ") and ok["output"].endswith(": rows")
    assert daemon.password not in failed.stderr


def test_job_services_need_an_icinga_table(sqlite_url: str, tmp_path: Path) -> None:
    result = run_director(sqlite_url, "config", "render", str(tmp_path / "out"), "--job-services")
    assert result.returncode == exit_codes.USAGE, result.stderr
    assert "job-services" in result.stderr and "[icinga]" in result.stderr
    assert not (tmp_path / "out").exists()
