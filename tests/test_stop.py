"""`director jobs stop` and the API's stop: from another process, the runner that holds the
run kills the job with everything it started and records it stopped, and by whom."""

from __future__ import annotations

import getpass
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import DIRECTOR, invoke, read_pids, run_director, wait_until_gone

from director_jobs import exit_codes


def long_job(url: str, name: str, pids: Path) -> None:
    """A command job that writes its shell's pid and its child's, then waits for ever."""
    script = f"echo $$ >> {pids}; sleep 300 & echo $! >> {pids}; wait"
    added = invoke(
        url, "jobs", "add", name, "--type", "command", "--interval", "1d",
        "--parameters", json.dumps({"command": script, "shell": True}),
    )  # fmt: skip
    assert added.exit_code == 0, added.output


@pytest.fixture
def runner_env(sqlite_url: str) -> dict[str, str]:
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": sqlite_url, "TZ": "UTC"}
    env.pop("DIRECTOR_JOBS_CONFIG", None)
    return env


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*DIRECTOR, "jobs", "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=120)


def test_jobs_stop_from_another_shell_stops_the_daemons_job(
    sqlite_url: str, tmp_path: Path, runner_env: dict[str, str],
    processes: list[subprocess.Popen[str]],
) -> None:  # fmt: skip
    pids = tmp_path / "pids"
    long_job(sqlite_url, "long", pids)
    processes.append(start(runner_env, "--forever"))
    job_pids = read_pids(pids, 2)

    stopped = run_director(sqlite_url, "jobs", "stop", "long", timeout=120)

    assert stopped.returncode == 0, stopped.stderr
    assert "asked runner" in stopped.stdout
    user = getpass.getuser()
    assert f"stopped (stopped by cli:{user})" in stopped.stdout
    assert wait_until_gone(job_pids) == []
    [run] = json.loads(invoke(sqlite_url, "jobs", "history", "long", "--json").stdout)
    assert (run["status"], run["stopped_by"]) == ("stopped", f"cli:{user}")
    assert run["error"] == f"stopped by cli:{user}"
    assert processes[0].poll() is None, "the daemon itself must go on"
    # The daemon goes on, and the job is due by its schedule again (a day on), not at once.
    job = json.loads(invoke(sqlite_url, "jobs", "show", "long", "--json").stdout)
    assert job["running_on"] is None and job["next_due"] > run["started_at"]


def test_stopping_what_does_not_run(sqlite_url: str, tmp_path: Path) -> None:
    long_job(sqlite_url, "idle", tmp_path / "pids")
    idle = run_director(sqlite_url, "jobs", "stop", "idle")
    assert idle.returncode == exit_codes.JOB_FAILED
    assert idle.stderr.strip().endswith("job: 'idle' is not running")
    unknown = run_director(sqlite_url, "jobs", "stop", "nope")
    assert unknown.returncode == exit_codes.USAGE and "no job named 'nope'" in unknown.stderr
    bad_wait = run_director(sqlite_url, "jobs", "stop", "idle", "--wait", "soon")
    assert (
        bad_wait.returncode == exit_codes.USAGE and "wait: invalid value 'soon'" in bad_wait.stderr
    )


def test_the_api_stops_a_run_and_says_who(
    sqlite_url: str, tmp_path: Path, runner_env: dict[str, str],
    processes: list[subprocess.Popen[str]],
) -> None:  # fmt: skip
    pids = tmp_path / "pids"
    long_job(sqlite_url, "long", pids)
    operator = make_token(sqlite_url, "ops", "operator")
    viewer = make_token(sqlite_url, "eyes", "viewer")
    server = ApiServer(sqlite_url, tmp_path / "serve.log").start()
    try:
        runner = start(runner_env, "long")
        processes.append(runner)
        job_pids = read_pids(pids, 2)
        base = f"{server.url}/api/v1"

        def post(path: str, token: str) -> httpx.Response:
            return httpx.post(base + path, headers={"Authorization": f"Bearer {token}"},
                              timeout=60)  # fmt: skip

        refused = post("/jobs/long/stop", viewer)
        asked = post("/jobs/long/stop", operator)
        _, stderr = runner.communicate(timeout=120)
        run_id = asked.json()["run"]["id"]
        again = post(f"/runs/{run_id}/stop", operator)
        idle = post("/jobs/long/stop", operator)
        shown = httpx.get(f"{base}/runs/{run_id}", timeout=60,
                          headers={"Authorization": f"Bearer {viewer}"})  # fmt: skip
    finally:
        server.stop()
    assert refused.status_code == 403
    assert asked.status_code == 202, asked.text
    assert asked.json()["stop_requested"] is True and asked.json()["run"]["status"] == "running"
    assert wait_until_gone(job_pids) == []
    assert runner.returncode == exit_codes.OK, stderr  # stopped on purpose: not a failure
    assert again.status_code == 409 and again.json()["error"]["code"] == "NOT_RUNNING"
    assert idle.status_code == 409 and "'long' is not running" in idle.json()["error"]["message"]
    assert shown.json()["status"] == "stopped" and shown.json()["stopped_by"] == "api:ops"
