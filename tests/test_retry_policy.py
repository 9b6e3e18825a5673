"""A job type's own retry policy (Harbor's ShouldRetry): config-deploy spends no retry on a
configuration icinga2 refused, and retries when the Icinga API cannot be reached. Real
icinga2, a closed 127.0.0.1 port, `director jobs run` as a child process."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import free_port, invoke, run_director
from icinga import require_icinga2
from test_deploy_support import SAMPLE, put_objects

RETRY_DELAY = timedelta(minutes=5)


def add_deploy(url: str, name: str, parameters: dict[str, Any]) -> None:
    added = invoke(url, "jobs", "add", name, "--type", "config-deploy", "--interval", "1d",
                   "--retries", "2", "--retry-delay", "5m",
                   "--parameters", json.dumps(parameters))  # fmt: skip
    assert added.exit_code == 0, added.output


def after_one_run(url: str, name: str) -> tuple[dict[str, Any], timedelta]:
    """Run what is due once; the run, and how long after its end the job is due again."""
    ran = run_director(url, "jobs", "run", timeout=180)
    assert ran.returncode == 1, ran.stderr  # the deployment failed
    (run,) = json.loads(run_director(url, "jobs", "history", name, "--json").stdout)
    shown = json.loads(run_director(url, "jobs", "show", name, "--json").stdout)
    due_in = datetime.fromisoformat(shown["next_due"]) - datetime.fromisoformat(run["finished_at"])
    return run, due_in


def test_a_configuration_icinga_refuses_is_not_retried(db_url: str, tmp_path: Path) -> None:
    icinga2 = require_icinga2()
    put_objects(db_url, [*SAMPLE, ("host", "broken", {"check_command": "no-such-command"})])
    add_deploy(db_url, "deploy", {"target": "directory", "path": str(tmp_path / "conf"),
                                  "validate_command": [icinga2, "daemon", "-C"]})  # fmt: skip
    run, due_in = after_one_run(db_url, "deploy")
    assert run["status"] == "error" and "icinga2 rejected the configuration" in run["error"]
    # Not in 5 minutes (a retry), but by the schedule: a day after the attempt.
    assert due_in > timedelta(hours=23), due_in


def test_an_unreachable_icinga_api_is_retried(db_url: str, tmp_path: Path) -> None:
    put_objects(db_url, SAMPLE)
    password = tmp_path / "password"
    password.write_text("secret\n")
    closed = free_port()  # nothing listens there: the connection is refused
    add_deploy(db_url, "deploy", {"target": "icinga2-api", "url": f"https://127.0.0.1:{closed}",
                                  "user": "director", "password_file": str(password),
                                  "timeout": 1})  # fmt: skip
    run, due_in = after_one_run(db_url, "deploy")
    assert run["status"] == "error" and "icinga2 API" in run["error"]
    assert RETRY_DELAY - timedelta(seconds=5) <= due_in <= RETRY_DELAY + timedelta(seconds=5)
