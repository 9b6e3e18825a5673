"""`director jobs run` as a real process: manual runs, confirmation, jobs running elsewhere,
one-shot exit codes, log flags and plain output when not on a terminal."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import Result
from conftest import DIRECTOR, invoke, run_director
from sqlalchemy import create_engine, func, select, update

from director_jobs.db.schema import jobs, runs

PROMPT = "Do you really want to run {} (yes/no)"


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float


def director_ok(url: str, *args: str) -> Result:
    """Set-up and inspection in-process (fast); the commands under test run as real processes."""
    result = invoke(url, *args)
    assert result.exit_code == 0, result.output
    return result


def jobs_json(url: str) -> list[dict[str, Any]]:
    return json.loads(director_ok(url, "jobs", "list", "--json").stdout)


def history(url: str, *args: str) -> list[dict[str, Any]]:
    return json.loads(director_ok(url, "jobs", "history", *args, "--json").stdout)


def count_runs(url: str) -> int:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(runs)).scalar_one())
    finally:
        engine.dispose()


def run_keeping_stdin_open(
    url: str, *args: str, write: str = "", env: dict[str, str] | None = None, wait: float = 30
) -> Finished:
    """Run director with a stdin pipe that stays open (a user who does not answer)."""
    full_env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": url, "TZ": "UTC", **(env or {})}
    full_env.pop("DIRECTOR_JOBS_CONFIG", None)
    started = time.monotonic()
    with subprocess.Popen(
        [*DIRECTOR, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        try:
            if write:
                proc.stdin.write(write)
                proc.stdin.flush()
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        finally:
            elapsed = time.monotonic() - started
            proc.stdin.close()
        return Finished(proc.returncode, proc.stdout.read(), proc.stderr.read(), elapsed)


# -- manual runs ------------------------------------------------------------------------------


def test_run_name_runs_a_job_that_is_not_due(sqlite_url: str) -> None:
    director_ok(sqlite_url, "jobs", "add", "nightly", "--type", "self-check", "--cron", "0 3 * * *")
    [before] = jobs_json(sqlite_url)

    result = run_director(sqlite_url, "jobs", "run", "nightly")

    assert result.returncode == 0, result.stderr
    [run] = history(sqlite_url)
    assert (run["job"], run["status"], run["trigger"], run["attempt"], run["scheduled_for"]) == (
        "nightly",
        "success",
        "manual",
        1,
        None,
    )
    [after] = jobs_json(sqlite_url)
    assert after["next_due"] == before["next_due"]  # still the next 03:00
    assert after["last_attempt"] == run["started_at"]
    assert after["running_on"] is None


def test_run_name_ignores_disabled_and_the_time_period(sqlite_url: str) -> None:
    director_ok(sqlite_url, "timeperiods", "add", "long-ago", "--range", "2001-01-01=00:00-24:00")
    director_ok(
        sqlite_url,
        "jobs",
        "add",
        "gated",
        "--type",
        "self-check",
        "--interval",
        "1m",
        "--timeperiod",
        "long-ago",
    )
    director_ok(sqlite_url, "jobs", "add", "off", "--type", "self-check", "--disabled")

    # A pass does not start them: one is outside its period, the other disabled.
    assert run_director(sqlite_url, "jobs", "run").returncode == 0
    assert history(sqlite_url) == []

    result = run_director(sqlite_url, "jobs", "run", "gated", "off", "--yes")  # off is asked for

    assert result.returncode == 0, result.stderr
    assert [(r["job"], r["status"], r["trigger"]) for r in history(sqlite_url)] == [
        ("off", "success", "manual"),
        ("gated", "success", "manual"),
    ]


def test_run_name_of_a_failing_job_exits_1(sqlite_url: str) -> None:
    director_ok(
        sqlite_url,
        "jobs",
        "add",
        "bad",
        "--type",
        "command",
        "--parameters",
        '{"command": ["sh", "-c", "echo oops >&2; exit 3"]}',
        "--retries",
        "2",
    )

    result = run_director(sqlite_url, "jobs", "run", "bad")

    assert result.returncode == 1
    assert "job bad finished: error" in result.stderr
    assert "command exited with 3" in result.stderr
    [run] = history(sqlite_url)  # manual runs are not retried
    assert (run["status"], run["exit_code"], run["error"], run["trigger"]) == (
        "error",
        3,
        "command exited with 3",
        "manual",
    )
    [job] = jobs_json(sqlite_url)
    assert job["running_on"] is None


def test_run_unknown_name_runs_nothing(sqlite_url: str) -> None:
    director_ok(sqlite_url, "jobs", "add", "good", "--type", "self-check")

    result = run_director(sqlite_url, "jobs", "run", "good", "nope")

    assert result.returncode == 2
    assert result.stderr.splitlines() == ["director: error: job: no job named 'nope'"]
    assert history(sqlite_url) == []


def test_run_names_and_forever_is_a_usage_error(sqlite_url: str) -> None:
    director_ok(sqlite_url, "jobs", "add", "good", "--type", "self-check")

    result = run_director(sqlite_url, "jobs", "run", "good", "--forever", timeout=30)

    assert result.returncode == 2
    assert "give job names, --tag or --forever, not two of them" in result.stderr
    assert history(sqlite_url) == []


# -- confirmation ------------------------------------------------------------------------------


@pytest.fixture
def confirm_url(sqlite_url: str) -> str:
    director_ok(sqlite_url, "jobs", "add", "deploy", "--type", "self-check", "--confirm")
    return sqlite_url


@pytest.mark.parametrize("answer", ["yes\n", "YES\n", "y\n"])
def test_confirm_yes_runs_the_job(confirm_url: str, answer: str) -> None:
    result = run_director(confirm_url, "jobs", "run", "deploy", input=answer)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(PROMPT.format("deploy") + " ")
    assert [(r["job"], r["status"], r["trigger"]) for r in history(confirm_url)] == [
        ("deploy", "success", "manual")
    ]


@pytest.mark.parametrize("answer", ["no\n", "n\n", "\n", "yess\n", ""])
def test_confirm_anything_but_yes_runs_nothing(confirm_url: str, answer: str) -> None:
    result = run_director(confirm_url, "jobs", "run", "deploy", input=answer)

    assert result.returncode == 1
    assert result.stdout.startswith(PROMPT.format("deploy"))
    assert result.stderr.splitlines()[-1] == "director: not running deploy"
    assert count_runs(confirm_url) == 0


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--confirm-timeout", "1"), {}),
        ((), {"DIRECTOR_JOBS_JOBS_RUN_CONFIRM_TIMEOUT": "1"}),
    ],
    ids=["option", "environment"],
)
def test_confirm_without_an_answer_gives_up_after_the_timeout(
    confirm_url: str, args: tuple[str, ...], env: dict[str, str]
) -> None:
    # Without the timeout it would wait for ever: the 60 s `wait` would kill it and fail.
    finished = run_keeping_stdin_open(confirm_url, "jobs", "run", "deploy", *args, env=env, wait=60)

    assert finished.returncode == 1
    assert finished.elapsed >= 1.0, finished.elapsed
    assert finished.stdout.startswith(PROMPT.format("deploy"))
    assert finished.stderr.splitlines() == [
        "director: no answer within 1 s",
        "director: not running deploy",
    ]
    assert count_runs(confirm_url) == 0


def test_confirm_answer_within_the_timeout(confirm_url: str) -> None:
    finished = run_keeping_stdin_open(
        confirm_url, "jobs", "run", "deploy", "--confirm-timeout", "60", write="yes\n", wait=120
    )

    assert finished.returncode == 0, finished.stderr
    assert count_runs(confirm_url) == 1


def test_yes_skips_the_question(confirm_url: str) -> None:
    result = run_director(confirm_url, "jobs", "run", "deploy", "--yes", input="")

    assert result.returncode == 0, result.stderr
    assert "Do you really want" not in result.stdout + result.stderr
    assert [r["status"] for r in history(confirm_url)] == ["success"]


def test_only_jobs_that_ask_are_asked_about(confirm_url: str) -> None:
    director_ok(confirm_url, "jobs", "add", "quiet", "--type", "self-check")

    result = run_director(confirm_url, "jobs", "run", "quiet", "deploy", input="yes\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Do you really want") == 1
    assert PROMPT.format("deploy") in result.stdout
    assert sorted(r["job"] for r in history(confirm_url)) == ["deploy", "quiet"]


def test_a_refused_confirmation_runs_none_of_the_named_jobs(confirm_url: str) -> None:
    director_ok(confirm_url, "jobs", "add", "quiet", "--type", "self-check")

    result = run_director(confirm_url, "jobs", "run", "quiet", "deploy", input="no\n")

    assert result.returncode == 1
    assert count_runs(confirm_url) == 0


def test_two_confirmations_answered_ahead(confirm_url: str) -> None:
    director_ok(confirm_url, "jobs", "add", "deploy2", "--type", "self-check", "--confirm")

    finished = run_keeping_stdin_open(
        confirm_url,
        "jobs",
        "run",
        "deploy",
        "deploy2",
        "--confirm-timeout",
        "3",
        write="yes\nyes\n",
        wait=20,
    )

    assert finished.returncode == 0, finished.stderr
    assert count_runs(confirm_url) == 2


# -- a job that runs elsewhere ------------------------------------------------------------------


def test_a_job_running_elsewhere_is_refused(db_url: str) -> None:
    director_ok(db_url, "jobs", "add", "busy", "--type", "self-check", "--interval", "1h")
    director_ok(db_url, "jobs", "add", "free", "--type", "self-check", "--interval", "1h")
    holder = f"{socket.gethostname()}:{os.getpid()}"  # a live process on this host: this test
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(update(jobs).where(jobs.c.name == "busy").values(claimed_by=holder))

        result = run_director(db_url, "jobs", "run", "busy")
        one_shot = run_director(db_url, "jobs", "run")

        with engine.connect() as connection:
            claimed = connection.execute(
                select(jobs.c.name, jobs.c.claimed_by).order_by(jobs.c.name)
            ).all()
    finally:
        engine.dispose()

    assert result.returncode == 1
    assert (
        result.stderr.splitlines()[-1] == "director: error: job 'busy' is already running elsewhere"
    )
    assert "Traceback" not in result.stderr
    # The one-shot pass leaves it alone too and runs the other job.
    assert one_shot.returncode == 0, one_shot.stderr
    assert [(r["job"], r["trigger"]) for r in history(db_url)] == [("free", "schedule")]
    assert [tuple(row) for row in claimed] == [("busy", holder), ("free", None)]
    assert "running" in director_ok(db_url, "jobs", "list").stdout.splitlines()[1]


# -- one-shot exit codes ---------------------------------------------------------------------------


def test_one_shot_exits_0_when_every_job_succeeded(db_url: str) -> None:
    for name in ("a", "b"):
        director_ok(db_url, "jobs", "add", name, "--type", "self-check", "--interval", "1h")
    director_ok(db_url, "jobs", "add", "later", "--type", "self-check", "--cron", "0 3 * * *")

    result = run_director(db_url, "jobs", "run")

    assert result.returncode == 0, result.stderr
    assert sorted((r["job"], r["status"], r["trigger"]) for r in history(db_url)) == [
        ("a", "success", "schedule"),
        ("b", "success", "schedule"),
    ]
    # Nothing is due any more: a second pass runs nothing and succeeds.
    assert run_director(db_url, "jobs", "run").returncode == 0
    assert len(history(db_url)) == 2


def test_one_shot_exits_1_when_any_job_failed(db_url: str) -> None:
    director_ok(db_url, "jobs", "add", "good", "--type", "self-check", "--interval", "1h")
    director_ok(
        db_url,
        "jobs",
        "add",
        "bad",
        "--type",
        "command",
        "--interval",
        "1h",
        "--parameters",
        '{"command": ["false"]}',
    )
    director_ok(db_url, "jobs", "add", "good2", "--type", "self-check", "--interval", "1h")

    result = run_director(db_url, "jobs", "run")

    assert result.returncode == 1
    assert sorted((r["job"], r["status"]) for r in history(db_url)) == [
        ("bad", "error"),
        ("good", "success"),
        ("good2", "success"),
    ]


# -- logging flags and plain output ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "level"),
    [
        (("-v", "jobs", "run", "j"), "INFO"),
        (("--verbose", "jobs", "run", "j"), "INFO"),
        (("jobs", "run", "j", "-v"), "INFO"),
        (("jobs", "run", "-v", "j"), "INFO"),
        (("--debug", "jobs", "run", "j"), "DEBUG"),
        (("jobs", "run", "j", "--debug"), "DEBUG"),
        (("-v", "jobs", "run", "j", "--debug"), "DEBUG"),
        (("--debug", "jobs", "run", "j", "-v"), "DEBUG"),
        (("jobs", "run", "j"), "WARNING"),
    ],
)
def test_log_flags_before_the_group_and_after_the_command(
    sqlite_url: str, args: tuple[str, ...], level: str
) -> None:
    director_ok(sqlite_url, "jobs", "add", "j", "--type", "self-check")

    result = run_director(sqlite_url, *args, env={"TERM": "xterm-256color"})

    assert result.returncode == 0, result.stderr
    logs = result.stderr
    assert "[WARN ] Test output in WARN level" in logs
    assert ("[INFO ] starting job j (run 1, manual, attempt 1)" in logs) == (
        level in ("INFO", "DEBUG")
    )
    assert ("[INFO ] Test output in INFO level" in logs) == (level in ("INFO", "DEBUG"))
    assert ("[DEBUG] Test output in DEBUG level" in logs) == (level == "DEBUG")
    assert ("[DEBUG] settings: " in logs) == (level == "DEBUG")
    assert "TRACE" not in logs


def test_trace_shows_everything(sqlite_url: str) -> None:
    director_ok(sqlite_url, "jobs", "add", "j", "--type", "self-check")

    result = run_director(sqlite_url, "jobs", "run", "j", "--trace")

    assert result.returncode == 0, result.stderr
    assert "[TRACE] Test output in TRACE level" in result.stderr


def test_no_ansi_escape_codes_when_not_a_terminal(sqlite_url: str) -> None:
    director_ok(
        sqlite_url,
        "jobs",
        "add",
        "j",
        "--type",
        "command",
        "--parameters",
        '{"command": ["false"]}',
    )
    director_ok(sqlite_url, "jobs", "add", "k", "--type", "self-check", "--confirm")

    results = [
        run_director(
            sqlite_url,
            "--debug",
            "jobs",
            "run",
            "j",
            "k",
            input="yes\n",
            env={"TERM": "xterm-256color"},
        ),
        run_director(
            sqlite_url, "jobs", "execute", "self-check", "--debug", env={"TERM": "xterm-256color"}
        ),
        run_director(sqlite_url, "jobs", "list", env={"TERM": "xterm-256color"}),
        run_director(sqlite_url, "jobs", "history", env={"TERM": "xterm-256color"}),
    ]

    assert [r.returncode for r in results] == [1, 0, 0, 0]
    for result in results:
        assert "\x1b" not in result.stdout
        assert "\x1b" not in result.stderr
    assert "[ERROR] job j finished: error" in results[0].stderr


def test_a_trigger_while_the_job_runs_makes_it_run_once_more(db_url: str) -> None:
    """The job triggers itself while it runs (as a user could from another shell): the
    trigger is kept for after the run, and the pass does not loop on it."""
    trigger_self = " ".join([*DIRECTOR, "jobs", "trigger", "selfie"])
    director_ok(
        db_url, "jobs", "add", "selfie", "--type", "command", "--interval", "1d",
        "--parameters", json.dumps({"command": trigger_self}),
    )  # fmt: skip

    first = run_director(db_url, "jobs", "run")
    queued = jobs_json(db_url)[0]
    second = run_director(db_url, "jobs", "run")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert queued["next_due"] is not None and queued["running_on"] is None
    assert [(r["trigger"], r["status"]) for r in history(db_url)] == [
        ("manual", "pending"),  # the second run triggered itself again: queued for the next
        ("manual", "success"),  # the run its first trigger queued
        ("schedule", "success"),
    ]


@pytest.mark.parametrize(("answer", "runs"), [("no\n", 0), ("yes\n", 1)])
def test_running_a_disabled_job_by_name_asks_first(sqlite_url: str, answer: str, runs: int) -> None:
    director_ok(sqlite_url, "jobs", "add", "off", "--type", "self-check", "--disabled")

    result = run_director(sqlite_url, "jobs", "run", "off", input=answer)

    assert result.stdout.startswith("off is disabled. " + PROMPT.format("off"))
    assert result.returncode == (0 if runs else 1), result.stderr
    assert count_runs(sqlite_url) == runs
    forced = run_director(sqlite_url, "jobs", "run", "off", "--yes")
    assert forced.returncode == 0
    assert forced.stderr.startswith("director: note: off is disabled; running it as asked\n")


def test_jobs_execute_self_check_shows_every_level_in_aligned_columns(sqlite_url: str) -> None:
    """OpenTalk's `jobs execute self-check`: TRACE to ERROR, level names five wide, in a pipe."""
    result = run_director(sqlite_url, "jobs", "execute", "self-check", "--hide-duration")

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-7:] == [
        "[INFO ] Starting job execution",
        "[TRACE] Test output in TRACE level",
        "[DEBUG] Test output in DEBUG level",
        "[INFO ] Test output in INFO level",
        "[WARN ] Test output in WARN level",
        "[ERROR] Test output in ERROR level (this line is expected)",
        "[INFO ] Job finished successfully",
    ]


def test_a_quiet_self_check_logs_nothing_at_the_default_level(sqlite_url: str) -> None:
    """The example's self-check: when all is well, cron has nothing to mail."""
    quiet = json.dumps({"levels": ["trace", "debug", "info"]})
    director_ok(sqlite_url, "jobs", "add", "check", "--type", "self-check", "--parameters", quiet)

    result = run_director(sqlite_url, "jobs", "run", "check")

    assert result.returncode == 0
    assert (result.stdout, result.stderr) == ("", "")


@pytest.mark.parametrize("where", ["jobs-run", "jobs-execute"])
def test_verbose_logs_at_most_a_budget_of_a_runs_output(sqlite_url: str, where: str) -> None:
    """200,000 lines (1.3 MB) at -v: 64 KiB of them reach the log, then one note says how
    many did not; the run keeps its own 64 KiB tail."""
    printer = "for i in range(200_000): print(f'line {i:06d}')"
    if where == "jobs-run":
        job = {"command": ["python3", "-c", printer]}
        director_ok(sqlite_url, "jobs", "add", "chatty", "--type", "command",
                    "--parameters", json.dumps(job))  # fmt: skip
        args = ["jobs", "run", "chatty", "-v"]
    else:
        args = ["jobs", "execute", "command", "--parameters",
                json.dumps({"command": ["python3", "-c", printer]})]  # fmt: skip

    result = run_director(sqlite_url, *args, timeout=300)

    assert result.returncode == 0, result.stderr[-2000:]
    logged = [line for line in result.stderr.splitlines() if " line " in line]
    assert 64 * 1024 // 25 < len(logged) < 64 * 1024 // 10, len(logged)
    assert len(result.stderr) < 5 * 64 * 1024  # the lines, timestamps and levels added
    notes = [line for line in result.stderr.splitlines() if "lines of this run not logged" in line]
    assert len(notes) == 1, notes
    dropped = int(notes[0].split("… ")[1].split()[0])
    assert dropped + len(logged) == 200_000
