"""contrib/systemd/director-jobs.service: lint it, and run it under a real systemd 252 as PID 1.

The end-to-end test boots systemd in private namespaces on an overlay of the host root
(tests/systemd/boot.sh, PLATFORM.md §2) and checks what an administrator relies on:
READY → active, WATCHDOG=1 pings, journald fields, a recycle (exit 0) followed by a
restart, and a clean `systemctl stop`.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, missing, run_director

from director_jobs import exit_codes
from director_jobs.daemon import DaemonOptions

UNIT = REPO / "contrib" / "systemd" / "director-jobs.service"
BOOT = Path(__file__).resolve().parent / "systemd" / "boot.sh"
SHIPPED_BINARY = "/opt/director-jobs/.venv/bin/director"
# The `director` console script of the interpreter that runs the tests (the project venv).
DIRECTOR_BIN = Path(sys.executable).parent / "director"
SYSTEMD = Path("/lib/systemd/systemd")
TARGET = "director-jobs-test.target"


def unit_settings(text: str) -> dict[tuple[str, str], list[str]]:
    """(section, key) -> values, in order (systemd allows repeated keys)."""
    settings: dict[tuple[str, str], list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings


def seconds(value: str) -> float:
    """A systemd time span such as `45s`, `10min`, `1min 30s` or `60` (seconds)."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hr": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


def unit_with_exec_start(text: str, binary: Path | str, extra_args: str = "") -> str:
    """The shipped unit with ExecStart's program replaced (its arguments kept)."""
    pattern = re.compile(rf"^ExecStart={re.escape(SHIPPED_BINARY)} (.*)$", re.MULTILINE)
    assert pattern.search(text), f"ExecStart does not start {SHIPPED_BINARY}"
    return pattern.sub(lambda m: f"ExecStart={binary} {m.group(1)}{extra_args}", text)


# -- the unit file on its own -----------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        ("director-jobs.service",),
        ("director-jobs-oneshot.service",),
        ("director-jobs-oneshot.timer", "director-jobs-oneshot.service"),  # the timer's unit too
    ],
)
def test_units_pass_systemd_analyze_verify(tmp_path: Path, names: tuple[str, ...]) -> None:
    """`systemd-analyze verify`: exit 0 and no warning at all (typos only warn, rc stays 0)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing("systemd-analyze", "install: apt-get install systemd")
    assert DIRECTOR_BIN.exists(), DIRECTOR_BIN
    for name in names:
        text = (UNIT.parent / name).read_text()
        if name.endswith(".service"):
            text = unit_with_exec_start(text, DIRECTOR_BIN)
        try:
            pwd.getpwnam("director-jobs")
        except KeyError:  # the service user does not exist here; verify may look it up
            text = re.sub(r"^(User|Group)=director-jobs$", r"\1=root", text, flags=re.MULTILINE)
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / names[0])], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_unit_matches_the_daemon(sqlite_url: str) -> None:
    """The settings that must agree with the product: exit codes, stop grace, ExecStart."""
    settings = unit_settings(UNIT.read_text())

    def one(section: str, key: str) -> str:
        values = settings.get((section, key), [])
        assert len(values) == 1, f"[{section}] {key}= set {len(values)} times"
        return values[0]

    assert one("Service", "Type") == "notify"
    assert one("Service", "NotifyAccess") == "main"
    assert one("Service", "Restart") == "always"  # a recycle exits 0 and must be restarted
    assert one("Service", "RestartPreventExitStatus") == str(exit_codes.CONFIG)
    assert one("Service", "KillMode") == "mixed"
    assert seconds(one("Service", "TimeoutStopSec")) > DaemonOptions().stop_timeout + 5
    assert seconds(one("Service", "WatchdogSec")) >= 10
    assert one("Service", "NoNewPrivileges") == "yes"
    # A recycle every few hours must never trip the start limit; a crash loop must.
    interval = seconds(one("Unit", "StartLimitIntervalSec"))
    burst = int(one("Unit", "StartLimitBurst"))
    restart_sec = seconds(one("Service", "RestartSec"))
    assert interval / burst <= 3600, "more than one start per hour would trip the limit"
    assert burst * restart_sec < interval, "a crash loop would never reach the limit"

    # ExecStart's arguments are accepted by the CLI: with a missing configuration file it
    # gets as far as loading the configuration and exits 78, which the unit does not restart.
    exec_start = one("Service", "ExecStart").split()
    assert exec_start[0] == SHIPPED_BINARY
    assert exec_start[1:4] == ["jobs", "run", "--forever"]
    result = run_director(
        sqlite_url, "--config", "/nonexistent/director-jobs.toml", *exec_start[1:], timeout=30
    )
    assert result.returncode == exit_codes.CONFIG, result.stderr
    assert "/nonexistent/director-jobs.toml" in result.stderr


# -- a real systemd as PID 1 -------------------------------------------------------------------


@dataclass
class Container:
    """A booted systemd (see tests/systemd/boot.sh), driven through nsenter."""

    workdir: Path
    pid: int

    def run(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run a command inside the container (its namespaces and root)."""
        return subprocess.run(
            ["nsenter", "-t", str(self.pid), "-a", "-r", "-w", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        """`systemctl show -p …` as a dict."""
        result = self.run("systemctl", "show", unit, "-p", ",".join(properties))
        assert result.returncode == 0, result.stderr
        return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)

    def journal(self, *args: str) -> list[dict[str, Any]]:
        """`journalctl -o json …`, after making journald write out what it has."""
        self.run("journalctl", "--sync")
        result = self.run("journalctl", "--no-pager", "-o", "json", *args)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def diagnostics(self) -> str:
        """Everything that helps when the test fails: units, the whole journal, the console."""
        parts = []
        for argv in (
            ("systemctl", "--no-pager", "status", "director-jobs"),
            ("journalctl", "--no-pager", "-o", "short-precise"),
        ):
            try:
                result = self.run(*argv)
                parts.append(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}")
            except subprocess.TimeoutExpired:
                parts.append(f"$ {' '.join(argv)}: timed out")
        console = self.workdir / "console.log"
        if console.exists():
            parts.append("console.log:\n" + console.read_text(errors="replace")[-5000:])
        return "\n".join(parts)


def _require_container_tools() -> None:
    if os.geteuid() != 0:
        missing("a systemd container", "run as root (unshare needs CAP_SYS_ADMIN)")
    for tool in ("unshare", "nsenter", "script", "systemctl", "journalctl"):
        if shutil.which(tool) is None:
            missing(tool, "install: apt-get install systemd util-linux bsdutils")
    if not SYSTEMD.exists():
        missing("systemd", "install: apt-get install systemd")
    # The container is an overlay of the root file system only: the venv must be on it.
    for path in (DIRECTOR_BIN, Path(sys.base_prefix), Path("/tmp")):
        if path.stat().st_dev != Path("/").stat().st_dev:
            missing("a systemd container", f"{path} is not on the root file system")


@pytest.fixture
def container_scratch() -> Iterator[tuple[Path, Path]]:
    """A folder in the host's /tmp and its path inside the container (/mnt/host-tmp/…).

    systemd-tmpfiles empties the container's own /tmp; boot.sh bind-mounts the host's /tmp
    at /mnt/host-tmp, so files here are shared with the container.
    """
    host = Path(tempfile.mkdtemp(prefix="director-jobs-systemd-", dir="/tmp"))
    try:
        yield host, Path("/mnt/host-tmp") / host.relative_to("/tmp")
    finally:
        shutil.rmtree(host, ignore_errors=True)


def _boot(unit_dir: Path, workdir: Path) -> Container:
    result = subprocess.run(
        ["bash", str(BOOT), "start", str(unit_dir), TARGET, "30", str(workdir)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    if result.returncode != 0 or "SDPID" not in values:
        pytest.fail(f"systemd did not boot (rc {result.returncode}):\n{result.stderr}")
    return Container(workdir, int(values["SDPID"]))


def _wait(what: str, predicate: Callable[[], bool], timeout: float, poll: float = 0.2) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


def _messages(records: list[dict[str, Any]]) -> list[str]:
    return [str(r.get("MESSAGE", "")) for r in records]


def _index(records: list[dict[str, Any]], needle: str, start: int = 0) -> int:
    """Position of the first record from `start` whose MESSAGE contains `needle`."""
    for i, message in enumerate(_messages(records)[start:], start):
        if needle in message:
            return i
    raise AssertionError(f"no journal line with {needle!r} after line {start}")


def container_program() -> tuple[str, str | None]:
    """What the container's ExecStart runs, and the PYTHONPATH it needs (None: none).

    The unit's PrivateTmp= hides /tmp from the service, and the container's tmpfiles empty
    it, so a checkout under /tmp (a CI clone may be there) is reached through boot.sh's
    /mnt/host-tmp instead: the base interpreter runs `-m director_jobs` with the checkout and
    the venv's packages on PYTHONPATH, since the venv's scripts and its editable-install
    hook name /tmp paths.
    """
    if not (REPO.is_relative_to("/tmp") or DIRECTOR_BIN.is_relative_to("/tmp")):
        return str(DIRECTOR_BIN), None

    def inside(path: Path) -> Path:
        return Path("/mnt/host-tmp") / path.relative_to("/tmp")

    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    packages = Path(sysconfig.get_paths()["purelib"])
    return f"{python} -m director_jobs", f"{inside(REPO)}:{inside(packages)}"


def _write_units(unit_dir: Path, database_url: str) -> None:
    """The shipped unit (program path and a short --max-lifetime patched in) + a drop-in."""
    unit_dir.mkdir()
    shipped = UNIT.read_text()
    program, python_path = container_program()
    (unit_dir / "director-jobs.service").write_text(
        unit_with_exec_start(shipped, program, " --max-lifetime 4s")
    )
    dropin = unit_dir / "director-jobs.service.d"
    dropin.mkdir()
    # What an administrator would put in `systemctl edit director-jobs`. User=root: the test
    # machine has no director-jobs user. WatchdogSec=3: the daemon must ping (every 1.5 s)
    # during its 4 s lives, which the test sees in WatchdogTimestamp.
    environment = [f"DIRECTOR_JOBS_DATABASE_URL={database_url}"]
    if python_path is not None:
        environment.append(f"PYTHONPATH={python_path}")
    (dropin / "test.conf").write_text(
        "[Service]\n"
        + "".join(f"Environment={line}\n" for line in environment)
        + "User=root\nGroup=root\nRestartSec=1\nWatchdogSec=3\n"
    )
    (unit_dir / TARGET).write_text(
        "[Unit]\n"
        "Description=director-jobs test boot: journald and the unit under test only\n"
        "Wants=systemd-journald.service director-jobs.service\n"
    )


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_unit_under_real_systemd(container_scratch: tuple[Path, Path]) -> None:
    """Boot systemd 252 with the shipped unit: ready, jobs in journald, recycle+restart, stop."""
    _require_container_tools()
    host_dir, inside_dir = container_scratch
    host_url = f"sqlite:///{host_dir / 'jobs.db'}"
    inside_url = f"sqlite:///{inside_dir / 'jobs.db'}"
    for args in (
        ("jobs", "add", "hello", "--type", "self-check", "--interval", "1s"),
        # `user` as root under NoNewPrivileges=yes: the unit's comment says this works.
        (
            "jobs",
            "add",
            "as-nobody",
            "--type",
            "command",
            "--interval",
            "1h",
            "--parameters",
            json.dumps({"command": "id -un", "user": "nobody"}),
        ),
    ):
        added = run_director(host_url, *args)
        assert added.returncode == 0, added.stderr
    unit_dir = host_dir / "units"
    _write_units(unit_dir, inside_url)

    # Made here, so that cleanup knows it even if `boot.sh start` never answers.
    workdir = Path(tempfile.mkdtemp(prefix="sdtest.", dir="/tmp"))
    container: Container | None = None
    try:
        container = _boot(unit_dir, workdir)
        _check_unit_lifecycle(container, host_url)
    finally:
        if container is not None:
            print(container.diagnostics())  # shown by pytest only when the test failed
        stop = subprocess.run(
            ["bash", str(BOOT), "stop", str(workdir), "20"],
            capture_output=True,
            text=True,
            timeout=90,
        )
    # After the finally block, so that a cleanup problem never hides the test's own failure.
    assert stop.returncode == 0, f"cleanup left something behind:\n{stop.stderr}"


def _check_unit_lifecycle(container: Container, host_url: str) -> None:
    """The assertions of the end-to-end test, once systemd runs."""
    props = ("ActiveState", "SubState", "MainPID", "NRestarts", "StatusText")
    samples: list[dict[str, str]] = []

    def sample() -> dict[str, str]:
        state = container.show("director-jobs", *props, "WatchdogTimestampMonotonic")
        samples.append(state)
        return state

    # 1. READY=1 makes a Type=notify unit active; STATUS= is shown.
    _wait("director-jobs to become active", lambda: sample()["ActiveState"] == "active", 30)
    first = samples[-1]
    first_pid = first["MainPID"]
    assert first["NRestarts"] == "0"
    assert first["StatusText"].startswith(("idle;", "running ")), first

    # 2. It recycles (--max-lifetime 4s, exit 0) and systemd starts a new process.
    def restarted() -> bool:
        state = sample()
        return (
            state["ActiveState"] == "active"
            and state["MainPID"] not in ("0", first_pid)
            and int(state["NRestarts"]) >= 1
        )

    _wait("a restart after the recycle", restarted, 40)
    second_pid = samples[-1]["MainPID"]
    stamps = [s["WatchdogTimestampMonotonic"] for s in samples if s["MainPID"] == first_pid]
    pings = set(stamps) - {"", "0"}  # the timestamp moves with each WATCHDOG=1
    assert len(pings) >= 2, f"no WATCHDOG=1 from the first process: {stamps}"

    # 3. `systemctl stop`: SIGTERM, STOPPING=1, exit 0, no SIGKILL.
    stopped = container.run("systemctl", "stop", "director-jobs", timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    final = container.show(
        "director-jobs", "ActiveState", "Result", "ExecMainCode", "ExecMainStatus", "NRestarts"
    )
    assert final["ActiveState"] == "inactive", final
    assert final["Result"] == "success", final
    assert (final["ExecMainCode"], final["ExecMainStatus"]) == ("1", "0"), final  # exited 0
    assert int(final["NRestarts"]) >= 1, final

    # 4. The journal: job lines with fields, the recycle, the restart, the stop.
    records = container.journal("-u", "director-jobs")
    ours = [r for r in records if r.get("SYSLOG_IDENTIFIER") == "director-jobs"]
    hello = [r for r in ours if r.get("JOB_NAME") == "hello"]
    assert hello, _messages(records)
    assert all(r.get("JOB_TYPE") == "self-check" and r.get("RUN_ID") for r in hello)
    assert {r.get("_PID") for r in hello} >= {first_pid, second_pid}
    assert any(
        r.get("RUN_STATUS") == "success" and "job hello finished" in r["MESSAGE"] for r in hello
    )
    recycle = _index(records, "recycling: lifetime")
    assert records[recycle].get("PRIORITY") == "4"
    assert records[recycle].get("_PID") == first_pid
    deactivated = _index(records, "director-jobs.service: Deactivated successfully", recycle)
    restart = _index(records, "Scheduled restart job, restart counter is at 1", deactivated)
    assert records[restart].get("_PID") == "1"  # systemd itself
    stopping = _index(records, "Stopping director-jobs.service", restart)
    runner_stopped = _index(records, "runner stopped (stopped)", stopping)
    assert records[runner_stopped].get("_PID") == second_pid
    _index(records, "Stopped director-jobs.service", runner_stopped)
    for bad in ("Watchdog timeout", "Failed with result", "SIGKILL", "Traceback"):
        assert not any(bad in m for m in _messages(records)), bad

    # 5. The runs are in the database, written by both processes (runner `host:pid`).
    history = run_director(host_url, "jobs", "history", "--json", "--output", "--limit", "1000")
    assert history.returncode == 0, history.stderr
    runs = json.loads(history.stdout)
    hello_runners = {
        r["runner"].rsplit(":", 1)[1]
        for r in runs
        if r["job"] == "hello" and r["status"] == "success"
    }
    assert hello_runners >= {first_pid, second_pid}, runs
    as_nobody = [r for r in runs if r["job"] == "as-nobody"]
    assert [r["status"] for r in as_nobody] == ["success"], as_nobody
    assert as_nobody[0]["output"].splitlines()[-1] == "nobody", as_nobody
