"""`director jobs run --forever` as a real child process with a real NOTIFY_SOCKET and signals."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import DIRECTOR, alive, run_director

JOB_SECONDS = 5


@dataclass
class Daemon:
    """A running `director jobs run --forever`, what it told systemd and what it logged."""

    process: subprocess.Popen[str]
    sock: socket.socket
    messages: list[tuple[float, str]] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    def __post_init__(self) -> None:
        # Read stderr as it comes: a chatty daemon must never block on a full pipe, and
        # tests wait for log lines (conditions, not sleeps).
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr:
            for line in self.process.stderr:
                self.log_lines.append(line)

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

    def wait_for(self, predicate: str, timeout: float = 60) -> None:
        """Collect until a notification starts with `predicate`."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(m.startswith(predicate) for _, m in self.messages):
                return
            self.collect(0.2)
        raise AssertionError(f"no {predicate!r} in {self.messages}")

    def wait_for_log(self, text: str, timeout: float = 60, count: int = 1) -> None:
        """Collect notifications until `text` appears in `count` log lines."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if sum(text in line for line in self.log_lines) >= count:
                return
            self.collect(0.2)
        raise AssertionError(f"{text!r} not logged {count} time(s): {''.join(self.log_lines)}")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for exit, draining notifications; return (exit code, stderr)."""
        end = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < end:
            self.collect(0.2)
        self.collect(0.3)
        self.process.wait(timeout=10)
        assert self._reader is not None
        self._reader.join(timeout=10)
        return self.process.returncode, "".join(self.log_lines)

    def lines(self, prefix: str) -> list[str]:
        return [m for _, m in self.messages if m.startswith(prefix)]


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[object]:
    started: list[Daemon] = []

    def start(
        url: str,
        *args: str,
        watchdog_usec: int | None = 1_000_000,
        notify: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Daemon:
        path = str(tmp_path / f"notify-{len(started)}.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        full_env = {
            **os.environ,
            "DIRECTOR_JOBS_DATABASE_URL": url,
            "NOTIFY_SOCKET": notify or path,
            "TZ": "UTC",
        }
        full_env.pop("DIRECTOR_JOBS_CONFIG", None)
        full_env.update(env or {})
        if watchdog_usec:
            full_env["WATCHDOG_USEC"] = str(watchdog_usec)
        process = subprocess.Popen(
            [*DIRECTOR, "-v", "jobs", "run", "--forever", *args],
            env=full_env,
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
        daemon.finish(timeout=30)
        daemon.sock.close()


def add_job(url: str, name: str, *options: str) -> None:
    """`jobs add NAME OPTIONS…`, which must succeed (a test that assumes the job is there)."""
    added = run_director(url, "jobs", "add", name, *options)
    assert added.returncode == 0, added.stderr


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
    add_sleeper(sqlite_url, seconds=10)
    # WATCHDOG_USEC=4 s: a ping every 2 s, leaving 2 s of slack on a busy machine.
    daemon = start_daemon(sqlite_url, watchdog_usec=4_000_000)
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
    # Pings go on while the 10 s job runs, never further apart than the watchdog allows.
    assert len(pings) >= 2, daemon.messages
    assert max(b - a for a, b in itertools.pairwise(pings)) < 4.0
    # STATUS changes only when the state does: one "running" line, not one per ping.
    [running] = daemon.lines("STATUS=running sleeper")
    assert re.fullmatch(r"STATUS=running sleeper \(run 1\) since \d\d:\d\d:\d\d UTC", running)
    assert daemon.messages[-1][1].startswith("STATUS=stopping") or daemon.lines("STOPPING=1")
    stopping_at = next(i for i, (_, m) in enumerate(daemon.messages) if m == "STOPPING=1")
    assert stopping_at > 0 and not any(
        m == "WATCHDOG=1" for _, m in daemon.messages[stopping_at + 1 :]
    )
    assert [run["status"] for run in history(sqlite_url)] == ["success"]


def test_status_is_sent_at_each_job_start_and_end(
    sqlite_url: str, start_daemon, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """No watchdog, so nothing else refreshes STATUS: two jobs of one pass, each on a gate."""
    for name in ("first", "second"):
        wait = f"while [ ! -e {tmp_path / name} ]; do sleep 0.1; done"
        add_job(sqlite_url, name, "--type", "command", "--interval", "1h",
                "--parameters", json.dumps({"command": ["sh", "-c", wait]}))  # fmt: skip
    daemon = start_daemon(sqlite_url, watchdog_usec=None)
    daemon.wait_for("STATUS=running ")
    first = daemon.lines("STATUS=running ")[0].split()[1]
    second = "second" if first == "first" else "first"
    (tmp_path / first).touch()
    daemon.wait_for(f"STATUS=running {second} ")
    (tmp_path / second).touch()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(daemon.lines("STATUS=idle")) < 3:
        daemon.collect(0.2)
    daemon.process.send_signal(signal.SIGTERM)
    code, stderr = daemon.finish()

    assert code == 0, stderr
    assert not daemon.lines("WATCHDOG=1")
    at = r"at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    since = r"since \d\d:\d\d:\d\d UTC"
    expected = [
        rf"idle; next: {first} {at}",  # with READY=1
        rf"running {first} \(run 1\) {since}; next: {second} {at}",
        rf"idle; next: {second} {at}",  # the job's end, inside the pass
        rf"running {second} \(run 2\) {since}; next: {first} {at}",
        rf"idle; next: {first} {at}",
        r"stopping: stopped",
    ]
    statuses = [m.removeprefix("STATUS=") for m in daemon.lines("STATUS=")]
    assert len(statuses) == len(expected), statuses
    for status, pattern in zip(statuses, expected, strict=True):
        assert re.fullmatch(pattern, status), (status, pattern)
    assert [run["status"] for run in history(sqlite_url)] == ["success", "success"]


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
    # The first one is taken (two signals before the handler runs would count as one).
    daemon.wait_for("STATUS=stopping: waiting for sleeper")
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
    add_job(sqlite_url, "tick", "--type", "self-check", "--interval", "1s")
    daemon = start_daemon(sqlite_url, *args)
    code, stderr = daemon.finish(timeout=60)
    assert code == 0
    assert "[WARN ] recycling: " in stderr and reason in stderr, stderr
    assert daemon.lines("STOPPING=1")


def test_a_missing_notify_socket_is_logged_not_fatal(
    sqlite_url: str, start_daemon, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    add_job(sqlite_url, "tick", "--type", "self-check", "--interval", "1h")
    daemon = start_daemon(sqlite_url, "--max-lifetime", "2s", notify=str(tmp_path / "nowhere.sock"))
    code, stderr = daemon.finish(timeout=60)
    assert code == 0
    assert "cannot notify systemd through" in stderr
    assert [run["status"] for run in history(sqlite_url)] == ["success"]


def test_a_trigger_is_picked_up_by_the_running_daemon(sqlite_url: str, start_daemon) -> None:  # type: ignore[no-untyped-def]
    add_job(sqlite_url, "later", "--type", "self-check", "--cron", "0 0 1 1 *")
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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_read_pids(pids)) < 2:
        time.sleep(0.1)  # until the shell and its `sleep` are both there
    daemon.process.send_signal(signal.SIGKILL)
    daemon.finish()
    shell_pid = _read_pids(pids)[0]
    deadline = time.monotonic() + 30
    while alive(shell_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(shell_pid), "the job's shell outlived the runner (no parent-death signal)"
    # And its `sleep`, with no other runner there yet: the runner's watcher killed it.
    deadline = time.monotonic() + 30
    while any(alive(p) for p in _read_pids(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in _read_pids(pids)), "the job's sleep outlived the runner"

    # The next runner marks the run abandoned, kills leftovers, and runs the job again.
    second = start_daemon(sqlite_url, "--stop-timeout", "0")
    second.wait_for("STATUS=running long")
    second.process.send_signal(signal.SIGTERM)
    second.finish()
    # A slow start on a busy machine may add `skipped` slots of the 1 s interval between.
    statuses = [r["status"] for r in history(sqlite_url) if r["status"] != "skipped"]
    assert statuses == ["stopped", "abandoned"], statuses
    for pid in _read_pids(pids):
        assert not alive(pid), f"process {pid} left behind"


def _read_pids(path: Path) -> list[int]:
    """The pids a job wrote, one a line (none yet: empty)."""
    return [int(p) for p in path.read_text().split()] if path.exists() else []


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
        before = [r["status"] for r in history(url)].count("success")
        assert before >= 1

        server.pause()
        outage_started = time.monotonic()
        daemon.wait_for("STATUS=database unavailable since")
        daemon.collect(20)
        pings = [t for t, m in daemon.messages if m == "WATCHDOG=1" and t > outage_started]
        # A ping in every 5 s of the outage (every 0.5 s when all is well): never quiet.
        for window in range(4):
            start = outage_started + 5 * window
            assert any(start <= t < start + 5 for t in pings), (window, pings)
        server.resume()

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the first run after the outage, late: skips slots
            statuses = [r["status"] for r in history(url)]
            if statuses.count("success") > before and "skipped" in statuses:
                break
            daemon.collect(0.5)
        daemon.process.send_signal(signal.SIGTERM)
        code, stderr = daemon.finish()
        assert code == 0, stderr
        runs = history(url)
        # The slots that passed during the outage are one `skipped` record, not replayed.
        assert {r["status"] for r in runs} == {"success", "skipped"}, runs
        succeeded = [r for r in runs if r["status"] == "success"]
        assert len(succeeded) >= before + 1, runs
        starts = sorted(str(r["started_at"]) for r in succeeded)
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
        # The job ends and its result cannot be written: the daemon says so.
        daemon.wait_for("STATUS=database unavailable since", timeout=120)
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


def test_sighup_rereads_the_configuration_file(
    sqlite_url: str, start_daemon, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text('timezone = "UTC"\n')
    add_job(sqlite_url, "later", "--type", "self-check", "--cron", "0 0 1 1 *")
    daemon = start_daemon(sqlite_url, env={"DIRECTOR_JOBS_CONFIG": str(config)})
    daemon.wait_for("READY=1")  # the handlers are installed: SIGHUP no longer kills it

    config.write_text('timezone = "Europe/Berlin"\n')
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for_log("SIGHUP: configuration reloaded")
    config.write_text("timezone = 42\n")  # a broken file is refused, the old settings stay
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for_log("SIGHUP: configuration not reloaded")
    daemon.process.send_signal(signal.SIGTERM)
    code, stderr = daemon.finish()

    assert code == 0, stderr
    assert "'timezone': 'Europe/Berlin'" in stderr, stderr
    assert "SIGHUP: configuration not reloaded: config: key 'timezone'" in stderr, stderr


def test_a_job_printing_nul_bytes_does_not_wedge_the_daemon(db_url: str, start_daemon) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL refuses NUL in text: once taken for an outage, it stopped the daemon for good."""
    for name, command in (("p0", "find /tmp -maxdepth 0 -print0"), ("after", "echo fine")):
        added = run_director(
            db_url, "jobs", "add", name, "--type", "command", "--interval", "1h",
            "--parameters", json.dumps({"command": command}),
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    daemon = start_daemon(db_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(history(db_url)) < 2:
        daemon.collect(0.5)
    daemon.process.send_signal(signal.SIGTERM)
    code, stderr = daemon.finish()

    assert code == 0, stderr
    assert sorted((r["job"], r["status"]) for r in history(db_url)) == [
        ("after", "success"),
        ("p0", "success"),
    ], stderr
    assert "database unavailable" not in stderr


def test_a_trigger_while_the_job_runs_is_run_after_it(
    sqlite_url: str, start_daemon, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The job waits for a file the test makes only after the trigger: it surely ran then."""
    gate = tmp_path / "go"
    wait = f"while [ ! -e {gate} ]; do sleep 0.1; done"
    add_job(sqlite_url, "busy", "--type", "command", "--interval", "1h",
            "--parameters", json.dumps({"command": wait, "shell": True}))  # fmt: skip
    daemon = start_daemon(sqlite_url)
    daemon.wait_for("STATUS=running busy")
    triggered = run_director(sqlite_url, "jobs", "trigger", "busy")
    assert triggered.returncode == 0, triggered.stderr
    gate.touch()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(history(sqlite_url)) < 2:
        daemon.collect(0.5)
    daemon.process.send_signal(signal.SIGTERM)
    daemon.finish()

    runs = history(sqlite_url)
    assert [(r["trigger"], r["status"]) for r in runs] == [
        ("manual", "success"),
        ("schedule", "success"),
    ], runs


def test_jobs_trigger_says_whether_a_runner_will_start_it(sqlite_url: str, start_daemon) -> None:  # type: ignore[no-untyped-def]
    add_job(sqlite_url, "later", "--type", "self-check", "--cron", "0 0 1 1 *")
    daemon = start_daemon(sqlite_url)
    daemon.wait_for("READY=1")

    with_daemon = run_director(sqlite_url, "jobs", "trigger", "later")
    daemon.process.send_signal(signal.SIGTERM)
    daemon.finish()
    without = run_director(sqlite_url, "jobs", "trigger", "later")

    label = f"{socket.gethostname()}:{daemon.process.pid}"
    assert with_daemon.stdout.startswith(
        f"queued run 1 of later; runner {label} (--forever, heartbeat "
    ), with_daemon.stdout
    assert with_daemon.stdout.endswith(" s ago) starts it within seconds\n")
    # The daemon may have started run 1 before it stopped (then this queues run 2), or not.
    assert re.match(
        r"(queued run 2 of later|run 1 of later was queued already, this trigger joins it); "
        "no runner runs --forever, so the next",
        without.stdout,
    ), without.stdout


def test_status_shows_the_database_the_live_runner_and_failed_jobs(
    sqlite_url: str, start_daemon
) -> None:  # type: ignore[no-untyped-def]
    add_job(sqlite_url, "broken", "--type", "command", "--interval", "1h",
            "--parameters", '{"command": "false"}')  # fmt: skip
    add_job(sqlite_url, "off", "--type", "self-check", "--disabled")
    daemon = start_daemon(sqlite_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not history(sqlite_url):
        daemon.collect(0.5)

    shown = run_director(sqlite_url, "status", "--json")
    text = run_director(sqlite_url, "status")
    daemon.process.send_signal(signal.SIGTERM)
    daemon.finish()
    after = json.loads(run_director(sqlite_url, "status", "--json").stdout)

    assert shown.returncode == 0, shown.stderr
    facts = json.loads(shown.stdout)
    assert facts["database"] == sqlite_url and facts["read_only"] is False
    assert [(r["runner"], r["mode"]) for r in facts["runners"]] == [
        (f"{socket.gethostname()}:{daemon.process.pid}", "forever")
    ]
    assert facts["runners"][0]["containment"] == facts["containment"]
    assert (facts["jobs"], facts["disabled"], facts["failed"]) == (2, 1, ["broken"])
    assert f"database:     {sqlite_url}\n" in text.stdout
    assert "last run failed: broken" in text.stdout
    assert after["runners"] == []  # stopped cleanly: gone from the live ones
