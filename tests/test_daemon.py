"""`director jobs run --forever` as a real child process with a real NOTIFY_SOCKET and signals."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import DIRECTOR, run_director

JOB_SECONDS = 5


@dataclass
class Daemon:
    """A running `director jobs run --forever` and what it told systemd."""

    process: subprocess.Popen[str]
    sock: socket.socket
    messages: list[tuple[float, str]] = field(default_factory=list)

    def collect(self, seconds: float) -> None:
        """Read notifications for `seconds` (or until the daemon exits)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.sock.recv(4096).decode()
            except TimeoutError:
                if self.process.poll() is not None:
                    return
                continue
            for line in data.splitlines():
                self.messages.append((time.monotonic(), line))

    def wait_for(self, predicate: str, timeout: float = 30) -> None:
        """Collect until a notification starts with `predicate`."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(m.startswith(predicate) for _, m in self.messages):
                return
            self.collect(0.2)
        raise AssertionError(f"no {predicate!r} in {self.messages}")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for exit, draining notifications; return (exit code, stderr)."""
        end = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < end:
            self.collect(0.2)
        self.collect(0.3)
        _, stderr = self.process.communicate(timeout=10)
        return self.process.returncode, stderr

    def lines(self, prefix: str) -> list[str]:
        return [m for _, m in self.messages if m.startswith(prefix)]


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[object]:
    started: list[Daemon] = []

    def start(
        url: str, *args: str, watchdog_usec: int | None = 1_000_000, notify: str | None = None
    ) -> Daemon:
        path = str(tmp_path / f"notify-{len(started)}.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        env = {
            **os.environ,
            "DIRECTOR_JOBS_DATABASE_URL": url,
            "NOTIFY_SOCKET": notify or path,
            "TZ": "UTC",
        }
        env.pop("DIRECTOR_JOBS_CONFIG", None)
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        process = subprocess.Popen(
            [*DIRECTOR, "-v", "jobs", "run", "--forever", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        daemon = Daemon(process, sock)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.communicate()
        daemon.sock.close()


def add_sleeper(url: str, seconds: int = JOB_SECONDS, name: str = "sleeper") -> None:
    result = run_director(
        url,
        "jobs",
        "add",
        name,
        "--type",
        "command",
        "--parameters",
        f'{{"command": "sleep {seconds}"}}',
        "--interval",
        "1h",
    )
    assert result.returncode == 0, result.stderr


def history(url: str) -> list[dict[str, object]]:
    import json

    result = run_director(url, "jobs", "history", "--json")
    return list(json.loads(result.stdout))


def test_notifications_ready_watchdog_status_stopping(sqlite_url: str, start_daemon) -> None:  # type: ignore[no-untyped-def]
    add_sleeper(sqlite_url)
    daemon = start_daemon(sqlite_url)
    daemon.wait_for("READY=1")
    daemon.wait_for("STATUS=running sleeper")
    job_started = next(t for t, m in daemon.messages if m.startswith("STATUS=running sleeper"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        t > job_started and m.startswith("STATUS=idle") for t, m in daemon.messages
    ):
        daemon.collect(0.2)
    job_ended = next(
        t for t, m in daemon.messages if t > job_started and m.startswith("STATUS=idle")
    )
    daemon.process.send_signal(signal.SIGTERM)
    code, stderr = daemon.finish()

    assert code == 0, stderr
    assert daemon.messages[0][1] == "READY=1"
    pings = [t for t, m in daemon.messages if m == "WATCHDOG=1" and job_started <= t <= job_ended]
    # WATCHDOG_USEC=1 s: a ping every 0.5 s, also while the 5 s job runs.
    assert len(pings) >= (JOB_SECONDS / 0.5) * 0.6, daemon.messages
    assert max(b - a for a, b in itertools.pairwise(pings)) < 1.0
    assert daemon.messages[-1][1].startswith("STATUS=stopping") or daemon.lines("STOPPING=1")
    stopping_at = next(i for i, (_, m) in enumerate(daemon.messages) if m == "STOPPING=1")
    assert stopping_at > 0 and not any(
        m == "WATCHDOG=1" for _, m in daemon.messages[stopping_at + 1 :]
    )
    assert [run["status"] for run in history(sqlite_url)] == ["success"]


def test_sigterm_during_a_job_stops_it_after_the_grace_period(
    sqlite_url: str, start_daemon
) -> None:  # type: ignore[no-untyped-def]
    add_sleeper(sqlite_url, seconds=300)
    daemon = start_daemon(sqlite_url, "--stop-timeout", "1s")
    daemon.wait_for("STATUS=running sleeper")
    daemon.process.send_signal(signal.SIGTERM)
    code, stderr = daemon.finish(timeout=30)
    assert code == 0, stderr
    [run] = history(sqlite_url)
    assert run["status"] == "stopped" and "stopped on request" in str(run["error"])


def test_a_second_sigterm_stops_the_job_at_once(sqlite_url: str, start_daemon) -> None:  # type: ignore[no-untyped-def]
    add_sleeper(sqlite_url, seconds=300)
    daemon = start_daemon(sqlite_url, "--stop-timeout", "10m")
    daemon.wait_for("STATUS=running sleeper")
    daemon.process.send_signal(signal.SIGTERM)
    daemon.collect(0.5)
    assert daemon.process.poll() is None  # still waiting for the job (grace period of 10 min)
    daemon.process.send_signal(signal.SIGTERM)
    code, stderr = daemon.finish(timeout=30)
    assert code == 0, stderr
    assert [run["status"] for run in history(sqlite_url)] == ["stopped"]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--max-memory", "1"), "exceeds --max-memory 1 MiB"),
        (("--max-memory-growth", "0.001"), "more than --max-memory-growth 0.001 MiB"),
        (("--max-lifetime", "1s"), "reached --max-lifetime 1 s"),
    ],
)
def test_recycles_with_exit_0_and_says_why(
    sqlite_url: str, start_daemon, args: tuple[str, ...], reason: str
) -> None:  # type: ignore[no-untyped-def]
    run_director(sqlite_url, "jobs", "add", "tick", "--type", "self-check", "--interval", "1s")
    daemon = start_daemon(sqlite_url, *args)
    code, stderr = daemon.finish(timeout=60)
    assert code == 0
    assert "[WARNING] recycling: " in stderr and reason in stderr, stderr
    assert daemon.lines("STOPPING=1")


def test_a_missing_notify_socket_is_logged_not_fatal(
    sqlite_url: str, start_daemon, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    run_director(sqlite_url, "jobs", "add", "tick", "--type", "self-check", "--interval", "1h")
    daemon = start_daemon(sqlite_url, "--max-lifetime", "2s", notify=str(tmp_path / "nowhere.sock"))
    code, stderr = daemon.finish(timeout=60)
    assert code == 0
    assert "cannot notify systemd through" in stderr
    assert [run["status"] for run in history(sqlite_url)] == ["success"]


def test_a_trigger_is_picked_up_by_the_running_daemon(sqlite_url: str, start_daemon) -> None:  # type: ignore[no-untyped-def]
    run_director(sqlite_url, "jobs", "add", "later", "--type", "self-check", "--cron", "0 0 1 1 *")
    daemon = start_daemon(sqlite_url)
    daemon.wait_for("READY=1")
    assert history(sqlite_url) == []
    assert run_director(sqlite_url, "jobs", "trigger", "later").returncode == 0
    deadline = time.monotonic() + 30
    while not history(sqlite_url) and time.monotonic() < deadline:
        daemon.collect(0.2)
    daemon.process.send_signal(signal.SIGTERM)
    daemon.finish()
    assert [(r["status"], r["trigger"]) for r in history(sqlite_url)] == [("success", "manual")]


def test_sigkill_of_the_runner_leaves_no_job_process_and_the_next_runner_recovers(
    sqlite_url: str, start_daemon, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    pids = tmp_path / "pids"
    script = f"echo $$ >> {pids}; sleep 300 & echo $! >> {pids}; wait"
    run_director(
        sqlite_url,
        "jobs",
        "add",
        "long",
        "--type",
        "command",
        "--parameters",
        f'{{"command": "{script}", "shell": true}}',
        "--interval",
        "1s",
    )
    daemon = start_daemon(sqlite_url)
    daemon.wait_for("STATUS=running long")
    time.sleep(0.5)
    daemon.process.send_signal(signal.SIGKILL)
    daemon.finish()
    shell_pid = int(pids.read_text().split()[0])
    deadline = time.monotonic() + 10
    while _alive(shell_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(shell_pid), "the job's shell outlived the runner (no parent-death signal)"

    # The next runner marks the run abandoned, kills leftovers, and runs the job again.
    second = start_daemon(sqlite_url, "--stop-timeout", "0")
    second.wait_for("STATUS=running long")
    second.process.send_signal(signal.SIGTERM)
    second.finish()
    statuses = [r["status"] for r in history(sqlite_url)]
    assert statuses[-1] == "abandoned" and statuses[0] == "stopped", statuses
    for pid in map(int, pids.read_text().split()):
        assert not _alive(pid), f"process {pid} left behind"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_configuration_error_exits_78(sqlite_url: str) -> None:
    result = run_director(
        sqlite_url, "--config", "/nonexistent/config.toml", "jobs", "run", "--forever"
    )
    assert result.returncode == 78
    assert (
        result.stderr.strip()
        == "director: error: config: cannot read '/nonexistent/config.toml': no such file"
    )


def test_python_module_entry_point_runs_too() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "director_jobs", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("director, version ")


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_postgresql_outage_keeps_the_watchdog_alive_and_loses_nothing(
    start_daemon, postgres
) -> None:  # type: ignore[no-untyped-def]
    from conftest import PostgresServer

    # A server of its own: stopping it must not disturb the other tests' databases.
    server = PostgresServer()
    server.start()
    try:
        url = server.new_database()
        run_director(url, "jobs", "add", "tick", "--type", "self-check", "--interval", "3s")
        daemon = start_daemon(url)
        daemon.wait_for("STATUS=idle; next: tick")
        before = len(history(url))
        assert before >= 1

        server.pause()
        outage_started = time.monotonic()
        daemon.collect(20)
        pings = [t for t, m in daemon.messages if m == "WATCHDOG=1" and t > outage_started]
        assert len(pings) >= 20 * 2 * 0.6, "the watchdog went quiet during the outage"
        assert daemon.lines("STATUS=database unavailable since")
        server.resume()

        deadline = time.monotonic() + 60
        while len(history(url)) < before + 2 and time.monotonic() < deadline:
            daemon.collect(0.5)
        daemon.process.send_signal(signal.SIGTERM)
        code, stderr = daemon.finish()
        assert code == 0, stderr
        runs = history(url)
        # The slots that passed during the outage are one `skipped` record, not replayed.
        assert {r["status"] for r in runs} == {"success", "skipped"}, runs
        successes = [r for r in runs if r["status"] == "success"]
        assert len(successes) >= before + 1, runs
        starts = sorted(str(r["started_at"]) for r in successes)
        assert len(starts) == len(set(starts)), "a run was recorded twice"
        assert stderr.count("database unavailable:") == 1, stderr  # logged once, not per retry
        assert "database is reachable again" in stderr
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_run_that_ends_during_an_outage_is_recorded_when_the_database_is_back(
    start_daemon, postgres
) -> None:  # type: ignore[no-untyped-def]
    """The only job: its result waits in memory, and is stored without another due job."""
    from conftest import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        url = server.new_database()
        command = '{"command": ["sleep", "3"]}'
        run_director(
            url, "jobs", "add", "slow", "--type", "command", "--parameters", command,
            "--interval", "1d",
        )  # fmt: skip
        daemon = start_daemon(url)
        daemon.wait_for("STATUS=running slow")
        server.pause()  # while the job runs
        daemon.collect(6)  # the job ends; its result cannot be written
        server.resume()

        deadline = time.monotonic() + 60
        runs = []
        while time.monotonic() < deadline:
            daemon.collect(0.5)
            runs = history(url)
            if runs and runs[0]["status"] != "running":
                break
        daemon.process.send_signal(signal.SIGTERM)
        code, stderr = daemon.finish()
        assert code == 0, stderr
        assert [(r["job"], r["status"]) for r in runs] == [("slow", "success")], (runs, stderr)
        assert "stored a run result that was kept during a database outage" in stderr
        listed = json.loads(run_director(url, "jobs", "list", "--json").stdout)
        assert listed[0]["running_on"] is None  # released: not stuck claimed
    finally:
        server.stop()


def test_sighup_rereads_the_configuration_file(sqlite_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('timezone = "UTC"\n')
    run_director(sqlite_url, "jobs", "add", "later", "--type", "self-check", "--cron", "0 0 1 1 *")
    env_daemon = subprocess.Popen(
        [*DIRECTOR, "--config", str(config), "-v", "jobs", "run", "--forever"],
        env={**os.environ, "DIRECTOR_JOBS_DATABASE_URL": sqlite_url},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        time.sleep(2)
        config.write_text('timezone = "Europe/Berlin"\n')
        env_daemon.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        config.write_text("timezone = 42\n")  # a broken file is refused, the old settings stay
        env_daemon.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        env_daemon.send_signal(signal.SIGTERM)
        _, stderr = env_daemon.communicate(timeout=30)
    finally:
        if env_daemon.poll() is None:
            env_daemon.kill()
    assert env_daemon.returncode == 0
    assert "SIGHUP: configuration reloaded" in stderr and "'timezone': 'Europe/Berlin'" in stderr, (
        stderr
    )
    assert "SIGHUP: configuration not reloaded: config: key 'timezone'" in stderr, stderr
