"""A waiting daemon is woken by a trigger, a new job and an API trigger, on SQLite (a
datagram) and PostgreSQL (NOTIFY). The daemon looks only every hour here, so a job that
starts at all within the deadline started because of the wake-up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import DIRECTOR, invoke, run_director, wait_for

# Far in the future: the job is never due by its schedule during a test.
NEVER = "0 3 1 1 *"


def history(url: str, name: str) -> list[dict[str, object]]:
    result = invoke(url, "jobs", "history", name, "--json")
    assert result.exit_code == 0, result.output
    runs: list[dict[str, object]] = json.loads(result.stdout)
    return runs


def wait_for_runs(url: str, name: str, count: int, seconds: float = 90) -> list[dict[str, object]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        runs = [r for r in history(url, name) if r["status"] != "running"]
        if len(runs) >= count:
            return runs
        time.sleep(0.1)
    raise AssertionError(f"{name}: fewer than {count} finished runs after {seconds} s")


@pytest.fixture
def daemon(db_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """`jobs run --forever` that looks for work once an hour, and is otherwise woken."""
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": db_url, "TZ": "UTC"}
    env.pop("DIRECTOR_JOBS_CONFIG", None)
    added = invoke(db_url, "jobs", "add", "first", "--type", "self-check", "--cron", NEVER)
    assert added.exit_code == 0, added.output
    process = subprocess.Popen(
        [*DIRECTOR, "jobs", "run", "--forever", "--look-every", "1h", "--verbose"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # It listens for wake-ups before it registers: once `director status` lists it, a
    # trigger wakes it (one before its first look is found by that look).
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = json.loads(invoke(db_url, "status", "--json").stdout)
        if any(r["mode"] == "forever" for r in status["runners"]):
            break
        time.sleep(0.1)
    else:
        process.kill()
        raise AssertionError("the daemon did not register: " + process.communicate()[1])
    yield process
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr


def test_jobs_trigger_wakes_the_daemon(db_url: str, daemon: subprocess.Popen[str]) -> None:
    for count in (1, 2, 3):
        triggered = run_director(db_url, "jobs", "trigger", "first")
        assert triggered.returncode == 0, triggered.stderr
        runs = wait_for_runs(db_url, "first", count)
        assert runs[0]["trigger"] == "manual" and runs[0]["status"] == "success"
        # scheduled_for of a triggered run: when the trigger was asked.
        assert str(runs[0]["scheduled_for"]) <= str(runs[0]["started_at"])


def test_a_new_job_due_now_wakes_the_daemon(db_url: str, daemon: subprocess.Popen[str]) -> None:
    added = invoke(db_url, "jobs", "add", "newcomer", "--type", "self-check", "--interval", "1h")
    assert added.exit_code == 0, added.output
    [run] = wait_for_runs(db_url, "newcomer", 1)
    assert run["trigger"] == "schedule"


def test_an_api_trigger_wakes_the_daemon(
    db_url: str, tmp_path: Path, daemon: subprocess.Popen[str]
) -> None:
    token = make_token(db_url, "ops", "operator")
    server = ApiServer(db_url, tmp_path / "serve.log").start()
    try:
        response = httpx.post(
            f"{server.url}/api/v1/jobs/first/trigger",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert response.status_code == 202, response.text
        [run] = wait_for_runs(db_url, "first", 1)
    finally:
        server.stop()
    assert run["trigger"] == "manual"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_lost_listening_connection_is_made_again(
    db_url: str, daemon: subprocess.Popen[str]
) -> None:
    """The server drops the LISTEN connection; the daemon reconnects and is woken again."""
    import psycopg

    from director_jobs.cluster.wakeups import APPLICATION_NAME

    dsn = db_url.replace("postgresql+psycopg://", "postgresql://")
    find = (
        "SELECT pid FROM pg_stat_activity"
        " WHERE application_name = %s AND datname = current_database()"
    )

    def listeners() -> list[int]:
        with psycopg.connect(dsn, autocommit=True) as connection:
            return [row[0] for row in connection.execute(find, (APPLICATION_NAME,))]

    [first] = wait_for(listeners, "the daemon's listening connection")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("SELECT pg_terminate_backend(%s)", (first,))
    wait_for(lambda: [p for p in listeners() if p != first], "a new listening connection")
    triggered = run_director(db_url, "jobs", "trigger", "first")
    assert triggered.returncode == 0, triggered.stderr
    wait_for_runs(db_url, "first", 1)
