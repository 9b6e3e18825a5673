"""An honest status: `director status` shows the runners and what they run, failed jobs with
the first line of why, overdue jobs and the next starts; `jobs list` shows the last run and
its result, and the next start its time period allows; both fit and colour a terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from conftest import DIRECTOR, alive, director_env, invoke, run_director, wait_for
from jobtypes_for_tests import TEST_TYPES

from director_jobs.cli import root
from director_jobs.cli.app import App
from director_jobs.clock import FakeClock
from director_jobs.db.database import Database
from director_jobs.job_types.base import JobContext, JobFailed, JobResult, JobType
from director_jobs.job_types.registry import Registry
from director_jobs.model import JobSpec, PeriodSpec
from director_jobs.runner import Runner
from director_jobs.services.jobs import JobService
from director_jobs.services.periods import PeriodService

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday
NIGHTS = {"monday": "22:00-24:00"}  # closed at NOW; opens at 22:00 the same day
# The keys `status --json` had before it showed runs, failures and starts: scripts read them.
STATUS_KEYS = {
    "version",
    "database",
    "read_only",
    "config_file",
    "timezone",
    "containment",
    "runners",
    "jobs",
    "disabled",
    "running",
    "failed",
    "next",
}
LIST_HEADERS = [
    "NAME",
    "TYPE",
    "SCHEDULE",
    "PERIOD",
    "STATE",
    "LAST RUN",
    "LAST RESULT",
    "NEXT START",
]
RED = "\x1b[31m"


class TwoLines(JobType):
    """Fails with a two-line reason: status shows only the first."""

    name = "two-lines"
    description = "fails with a reason of two lines"

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        raise JobFailed("first line of why\nsecond line, for the details")


def invoke_at(url: str, now: datetime, *args: str, exit_code: int = 0) -> Result:
    """The CLI in-process with its clock at `now` (no terminal: nothing cut, no colour)."""
    env = {"DIRECTOR_JOBS_DATABASE_URL": url, "DIRECTOR_JOBS_CONFIG": "", "TZ": "UTC"}
    result = CliRunner().invoke(
        root, list(args), env=env, obj=App(clock=FakeClock(now)), catch_exceptions=False
    )
    assert result.exit_code == exit_code, result.output
    return result


def ok(result: Result, exit_code: int = 0) -> Result:
    """`result` once it is known to have ended with `exit_code`."""
    assert result.exit_code == exit_code, result.output
    return result


def on_a_terminal(
    url: str, *args: str, columns: int = 80, env: dict[str, str] | None = None
) -> str:
    """What `director ARGS` prints on a pseudo-terminal `columns` wide (stdout only)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    full_env = {**director_env(url)}
    full_env.pop("COLUMNS", None)  # the terminal's own width, unless the test sets one
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    process = subprocess.Popen(
        [*DIRECTOR, *args],
        env=full_env,
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    assert process.wait(timeout=30) == 0, output
    os.close(controller)
    return output.decode().replace("\r\n", "\n")


def plain(text: str) -> str:
    """`text` without its ANSI colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def status_json(url: str, now: datetime | None = None) -> dict[str, Any]:
    """`director status --json`, at `now` or in a child process on the real clock."""
    if now is not None:
        return dict(json.loads(invoke_at(url, now, "status", "--json").stdout))
    result = run_director(url, "status", "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def director_ok(url: str, *args: str) -> str:
    """Run `director ARGS` as a child; its stdout."""
    result = run_director(url, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


# -- director status -------------------------------------------------------------------


def test_status_shows_failures_by_their_first_line_overdue_jobs_and_the_next_five_starts(
    db_url: str,
) -> None:
    clock = FakeClock(NOW)
    database = Database.open(db_url)
    registry = Registry({**TEST_TYPES, "two-lines": "test_status_and_list:TwoLines"})
    periods = PeriodService(database, clock, "UTC")
    service = JobService(database, registry, clock, "UTC", periods)
    runner = Runner(database, registry, clock, default_timezone="UTC", periods=periods)
    try:
        service.add(JobSpec(name="broken", type="two-lines", interval=3600))
        service.add(JobSpec(name="fine", type="self-check", interval=900))
        for name, cron in (
            ("daily", "0 3 * * *"),
            ("weekly", "0 0 * * 0"),
            ("monthly", "0 0 1 * *"),
        ):
            service.add(JobSpec(name=name, type="self-check", cron=cron))
        service.add(JobSpec(name="off", type="self-check", interval=60, disabled=True))
        runner.run_once()  # broken fails, fine succeeds, at 12:00
        # Added after the pass: its due time is 12:00, and only its period says 22:00.
        periods.add(PeriodSpec(name="nights", ranges=NIGHTS))
        service.add(JobSpec(name="nightly", type="self-check", interval=3600, timeperiod="nights"))
    finally:
        runner.close()
        database.dispose()
    later = NOW + timedelta(hours=3, minutes=30)  # fine is 3h15m late, broken 2h30m

    facts = status_json(db_url, later)
    text = invoke_at(db_url, later, "status").stdout

    assert set(facts) >= STATUS_KEYS | {"failures", "overdue", "next_starts", "orphaned_runs"}
    assert (facts["jobs"], facts["disabled"], facts["running"]) == (7, 1, 0)
    assert facts["runners"] == [] and facts["orphaned_runs"] == []
    assert facts["failed"] == ["broken"]
    [failure] = facts["failures"]
    assert isinstance(failure.pop("run_id"), int)
    assert failure == {
        "job": "broken",
        "status": "error",
        "finished_at": "2026-06-01T12:00:00Z",
        "error": "first line of why",
        "retry_pending": False,
    }
    assert facts["overdue"] == [
        {"job": "fine", "due_since": "2026-06-01T12:15:00Z", "late": 11700.0},
        {"job": "broken", "due_since": "2026-06-01T13:00:00Z", "late": 9000.0},
    ]
    assert facts["next_starts"] == [
        {"job": "fine", "at": "2026-06-01T12:15:00Z"},
        {"job": "broken", "at": "2026-06-01T13:00:00Z"},
        {"job": "nightly", "at": "2026-06-01T22:00:00Z"},  # its period's opening
        {"job": "daily", "at": "2026-06-02T03:00:00Z"},
        {"job": "weekly", "at": "2026-06-07T00:00:00Z"},
    ]  # monthly is sixth; off is disabled
    assert facts["next"] == facts["next_starts"][0]

    lines = text.splitlines()
    assert "\x1b[" not in text and "second line" not in text
    assert "runners:      none alive (no heartbeat in the last 35 s)" in lines
    assert "jobs:         7 (1 disabled, 0 running); last run failed: broken" in lines
    assert re.search(r"^failed: {7}broken: run \d+ error, first line of why$", text, re.M), text
    start = lines.index("overdue:      fine: due since 2026-06-01 12:15:00 UTC (3h15m late)")
    assert (
        lines[start + 1] == "              broken: due since 2026-06-01 13:00:00 UTC (2h30m late)"
    )
    start = lines.index("next starts:  2026-06-01 12:15:00 UTC  fine (due now)")
    assert lines[start + 1 : start + 5] == [
        "              2026-06-01 13:00:00 UTC  broken (due now)",
        "              2026-06-01 22:00:00 UTC  nightly (in 6h30m)",
        "              2026-06-02 03:00:00 UTC  daily (in 11h30m)",
        "              2026-06-07 00:00:00 UTC  weekly (in 5d8h)",
    ]


def test_status_shows_what_each_live_runner_runs_and_runs_whose_runner_died(
    db_url: str, tmp_path: Path
) -> None:
    pid_file = tmp_path / "job.pid"
    command = ["sh", "-c", f"echo $$ > {pid_file}; exec sleep 120"]
    ok(invoke(db_url, "jobs", "add", "slow", "--type", "command", "--interval", "1h",
              "--parameters", json.dumps({"command": command})))  # fmt: skip
    daemon = subprocess.Popen(
        [*DIRECTOR, "jobs", "run", "--forever"],
        env=director_env(db_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        facts = wait_for(
            lambda: (f := status_json(db_url))["runners"] and f["runners"][0]["running"] and f,
            "the daemon to run the slow job",
        )
        text = director_ok(db_url, "status")
        daemon.kill()  # dies without ending the run: it stays marked running
        daemon.wait(timeout=30)
        orphaned = wait_for(lambda: status_json(db_url)["orphaned_runs"], "the orphaned run")
        after = director_ok(db_url, "status")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(timeout=30)
        if pid_file.exists() and alive(job_pid := int(pid_file.read_text())):
            os.kill(job_pid, signal.SIGKILL)

    [runner] = facts["runners"]
    [run] = runner["running"]
    running = json.loads(director_ok(db_url, "jobs", "history", "--json"))[0]
    assert running["status"] == "running"
    assert (run["job"], run["run_id"], run["started_at"]) == (
        "slow",
        running["id"],
        running["started_at"],
    )
    assert run["elapsed"] >= 0
    assert facts["running"] == 1 and facts["next_starts"] == []  # a running job's next is later
    label = runner["runner"]
    shown = rf"^runners: {{6}}{re.escape(label)} forever, heartbeat \d+ s ago$"
    assert re.search(shown, text, re.M), text
    assert re.search(rf"^ {{16}}runs slow \(run {run['run_id']}\) for \S+$", text, re.M), text
    assert [(o["job"], o["run_id"], o["runner"]) for o in orphaned] == [
        ("slow", run["run_id"], label)
    ]
    assert "runners:      none alive" in after
    assert f"slow (run {run['run_id']}) for " in after and f"on {label}, whose runner is" in after


def test_status_is_coloured_and_cut_on_a_terminal_only(sqlite_url: str) -> None:
    ok(invoke(sqlite_url, "jobs", "add", "broken", "--type", "command",
              "--parameters", '{"command": ["false"]}'))  # fmt: skip
    ok(invoke(sqlite_url, "jobs", "run", "broken"), exit_code=1)  # it failed

    coloured = on_a_terminal(sqlite_url, "status", columns=60)
    uncoloured = on_a_terminal(sqlite_url, "status", columns=60, env={"NO_COLOR": "1"})
    piped = invoke(sqlite_url, "status", env={"COLUMNS": "60"}).stdout

    assert RED + "failed:       broken: run 1 error, command exited with 1" in coloured
    assert "\x1b[" not in uncoloured and "\x1b[" not in piped
    assert plain(coloured) == uncoloured
    assert all(len(line) <= 60 for line in uncoloured.splitlines()), uncoloured
    assert re.search(r"^containment: .{46}…$", uncoloured, re.M), uncoloured  # a long line
    assert any(len(line) > 60 for line in piped.splitlines())  # whole for a script


# -- director jobs list -----------------------------------------------------------------


def test_jobs_list_shows_the_last_run_its_result_and_the_start_the_period_allows(
    sqlite_url: str,
) -> None:
    invoke_at(sqlite_url, NOW, "timeperiods", "add", "nights", "--range", "monday=22:00-24:00")
    hourly = ("--interval", "1h")
    invoke_at(sqlite_url, NOW, "jobs", "add", "fine", "--type", "self-check", *hourly)
    invoke_at(sqlite_url, NOW, "jobs", "add", "broken", "--type", "command", *hourly,
              "--parameters", '{"command": ["false"]}')  # fmt: skip
    invoke_at(sqlite_url, NOW, "jobs", "add", "nightly", "--type", "self-check", *hourly,
              "--timeperiod", "nights")  # fmt: skip
    invoke_at(sqlite_url, NOW, "jobs", "run", "fine", "broken", exit_code=1)  # broken failed
    later = NOW + timedelta(minutes=5)

    shown = invoke_at(sqlite_url, later, "jobs", "list").stdout
    table = [re.split(r" {2,}", line) for line in shown.splitlines()]
    listing = json.loads(invoke_at(sqlite_url, later, "jobs", "list", "--json").stdout)
    listed = {job["name"]: job for job in listing}

    assert table == [
        LIST_HEADERS,
        ["broken", "command", "every 1h", "-", "enabled", "2026-06-01 12:00:00 UTC", "error",
         "2026-06-01 13:00:00 UTC"],
        ["fine", "self-check", "every 1h", "-", "enabled", "2026-06-01 12:00:00 UTC", "success",
         "2026-06-01 13:00:00 UTC"],
        # Due since 12:00, but its period is shut until 22:00: that is when it starts.
        ["nightly", "self-check", "every 1h", "nights", "enabled", "-", "-",
         "2026-06-01 22:00:00 UTC"],
    ]  # fmt: skip
    assert (listed["broken"]["last_run"]["status"], listed["fine"]["last_run"]["status"]) == (
        "error",
        "success",
    )
    assert listed["broken"]["last_run"]["started_at"] == "2026-06-01T12:00:00Z"
    assert listed["nightly"]["last_run"] is None
    assert listed["nightly"]["next_due"] == "2026-06-01T12:00:00Z"
    assert listed["nightly"]["next_start"] == "2026-06-01T22:00:00Z"


def test_jobs_list_fits_the_terminal_widest_column_first_and_colours_failures_red(
    sqlite_url: str,
) -> None:
    long_name = "import-the-configuration-management-database"
    cron = ",".join(str(m) for m in range(0, 60, 5)) + " * * * *"
    ok(invoke(sqlite_url, "jobs", "add", long_name, "--type", "self-check", "--cron", cron))
    ok(invoke(sqlite_url, "jobs", "add", "broken", "--type", "command", "--interval", "1h",
              "--parameters", '{"command": ["false"]}'))  # fmt: skip
    ok(invoke(sqlite_url, "jobs", "run", long_name, "broken"), exit_code=1)  # broken failed

    wide = on_a_terminal(sqlite_url, "jobs", "list", columns=250)
    narrow = on_a_terminal(sqlite_url, "jobs", "list", columns=80)
    by_columns = on_a_terminal(sqlite_url, "jobs", "list", columns=250, env={"COLUMNS": "76"})
    no_colour = on_a_terminal(sqlite_url, "jobs", "list", columns=80, env={"NO_COLOR": "1"})
    piped = invoke(sqlite_url, "jobs", "list", env={"COLUMNS": "70"}).stdout

    assert f"{RED}error\x1b[0m" in narrow and f"{RED}success" not in narrow
    assert "\x1b[" not in no_colour and "\x1b[" not in piped
    assert plain(narrow) == no_colour
    assert "…" not in wide and long_name in wide and cron in wide
    for shown, width in ((no_colour, 80), (plain(by_columns), 76)):
        lines = shown.splitlines()
        assert all(len(line) <= width for line in lines), shown
        assert "…" in shown
        assert re.split(r" {2,}", lines[0]) == LIST_HEADERS  # no header is cut
        name = lines[2][: lines[0].index("TYPE")].rstrip()  # the long job's NAME cell
        assert len(name) >= len("NAME") and long_name.startswith(name.removesuffix("…"))
    # The widest column gives first: the long name is cut, the short values stay whole.
    assert "every 1h" in no_colour and "broken" in no_colour and "enabled" in no_colour
    assert long_name not in no_colour
    assert long_name in piped and cron in piped  # a pipe gets whole values, $COLUMNS or not
