"""`director health check` as Icinga runs it: a real child process, its exit code (0/1/2/3),
its status line with perfdata and its detail lines, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import DIRECTOR, REPO, director_env, run_director, wait_for
from icinga import IcingaDaemon, require_icinga2
from test_defaults import clean_env, in_private_mounts

STATUS_LINE = re.compile(r"^DIRECTOR-JOBS (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+( \| .+)?$")


def check(url: str, *options: str) -> subprocess.CompletedProcess[str]:
    """One plugin run, its output checked against the Monitoring Plugins shape."""
    result = run_director(url, "health", "check", *options)
    first = result.stdout.splitlines()[0] if result.stdout else ""
    assert STATUS_LINE.match(first), result.stdout + result.stderr
    assert result.returncode == ("OK", "WARNING", "CRITICAL", "UNKNOWN").index(first.split()[1])
    return result


def add(url: str, *args: str) -> None:
    added = run_director(url, "jobs", "add", *args)
    assert added.returncode == 0, added.stderr


def run_once(url: str, *args: str) -> None:
    subprocess.run([*DIRECTOR, "jobs", "run", *args], env=director_env(url), timeout=120,
                   capture_output=True, check=False)  # fmt: skip


def test_no_jobs_and_a_reachable_database_is_ok_with_perfdata(db_url: str) -> None:
    result = check(db_url, "--check", "jobs,database")
    assert result.returncode == 0
    assert result.stdout == (
        "DIRECTOR-JOBS OK - database reachable, 0 jobs, 0 failed"
        " | jobs=0 failed=0 running=0 overdue=0\n"
    )


def test_a_failed_job_is_critical_and_a_never_run_job_is_no_failure(db_url: str) -> None:
    add(db_url, "never-ran", "--type", "self-check", "--interval", "1d")
    result = check(db_url, "--check", "jobs")
    assert result.returncode == 0 and "1 job, 0 failed" in result.stdout

    failing = '{"command": ["sh", "-c", "echo cannot reach cmdb >&2; exit 3"]}'
    add(db_url, "broken", "--type", "command", "--interval", "1h", "--parameters", failing)
    run_once(db_url, "broken")
    result = check(db_url, "--check", "jobs")
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith("DIRECTOR-JOBS CRITICAL - 2 jobs, 1 failed |")
    assert "failed=1" in lines[0]
    assert re.fullmatch(
        r"CRITICAL: job broken: last run \d+ ended in error: .*exited with 3", lines[1]
    )
    assert len(lines) == 2

    # The filters: the other job alone, or everything but the broken one, is OK.
    assert check(db_url, "--check", "jobs", "--job", "never-ran").returncode == 0
    assert check(db_url, "--check", "jobs", "--exclude", "broken").returncode == 0


def test_a_failure_with_a_retry_still_to_come_only_warns(sqlite_url: str) -> None:
    add(
        sqlite_url,
        "flaky",
        "--type",
        "command",
        "--interval",
        "1h",
        "--retries",
        "2",
        "--retry-delay",
        "1h",
        "--tag",
        "nightly",
        "--parameters",
        '{"command": "false"}',
    )
    run_once(sqlite_url)  # a scheduled attempt: retried in an hour
    result = check(sqlite_url, "--check", "jobs", "--tag", "nightly")
    assert result.returncode == 1, result.stdout
    assert "WARNING: job flaky: last run" in result.stdout
    assert "(a retry is pending)" in result.stdout


def test_a_job_late_beyond_twice_its_interval_is_overdue_unless_its_period_is_closed(
    sqlite_url: str,
) -> None:
    today = datetime.now(UTC).strftime("%A").lower()
    other_day = (datetime.now(UTC) + timedelta(days=3)).strftime("%A").lower()
    closed = run_director(sqlite_url, "timeperiods", "add", "not-today",
                          "--range", f"{other_day}=00:00-24:00")  # fmt: skip
    assert closed.returncode == 0, closed.stderr
    assert today != other_day
    always = run_director(sqlite_url, "timeperiods", "add", "every-day",
                          "--range", f"{today}=00:00-24:00")  # fmt: skip
    assert always.returncode == 0, always.stderr
    add(sqlite_url, "late", "--type", "self-check", "--interval", "1s")
    add(sqlite_url, "waiting", "--type", "self-check", "--interval", "1s",
        "--timeperiod", "not-today")  # fmt: skip
    # Inside an open period a late job is late all the same.
    add(sqlite_url, "late-in-period", "--type", "self-check", "--interval", "1s",
        "--timeperiod", "every-day")  # fmt: skip
    run_once(sqlite_url, "late", "late-in-period")
    run_once(sqlite_url, "waiting", "--force")

    def both_overdue() -> subprocess.CompletedProcess[str] | None:
        # The two jobs finished one after the other, so one turns overdue first.
        result = check(sqlite_url, "--check", "jobs")
        return result if "overdue=2" in result.stdout else None

    result = wait_for(both_overdue, "both late jobs to be overdue", seconds=60)
    assert result.returncode == 1, result.stdout
    assert re.search(r"^WARNING: job late: overdue, due \d+s ago$", result.stdout, re.M)
    assert re.search(r"^WARNING: job late-in-period: overdue, due \d+s ago$", result.stdout, re.M)
    assert "waiting" not in result.stdout
    # With a larger factor the same lateness is not yet overdue.
    assert check(sqlite_url, "--check", "jobs", "--overdue", "100000x").returncode == 0


def test_the_runner_check_follows_a_real_daemon(sqlite_url: str, tmp_path: Path) -> None:
    result = check(sqlite_url, "--check", "runner")
    assert result.returncode == 2
    assert "CRITICAL: runner: no runner has run with --forever" in result.stdout

    with (tmp_path / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen([*DIRECTOR, "jobs", "run", "--forever"],
                                  env=director_env(sqlite_url), stdout=log, stderr=log)  # fmt: skip
    try:
        alive = wait_for(
            lambda: (r := check(sqlite_url, "--check", "runner")).returncode == 0 and r,
            "the daemon to be seen alive",
        )
        assert re.match(
            r"DIRECTOR-JOBS OK - runner alive \(heartbeat \d+s\) \| heartbeat=\d+s;30;120$",
            alive.stdout,
        )
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    gone = check(sqlite_url, "--check", "runner")
    assert gone.returncode == 2, gone.stdout
    # One-shot mode (from cron): none yet, then one that just ended.
    never = check(sqlite_url, "--check", "runner", "--runner-mode", "oneshot")
    assert never.returncode == 2 and "no one-shot run recorded" in never.stdout
    run_once(sqlite_url)
    oneshot = check(sqlite_url, "--check", "runner", "--runner-mode", "oneshot")
    assert oneshot.returncode == 0, oneshot.stdout
    assert "last_oneshot=" in oneshot.stdout
    stale = wait_for(
        lambda: (r := check(sqlite_url, "--check", "runner", "--runner-mode", "oneshot",
                            "--warning", "1s", "--critical", "1h")).returncode == 1 and r,
        "the one-shot run to be older than 1 s",
    )  # fmt: skip
    assert stale.returncode == 1 and "WARNING: runner: last one-shot run" in stale.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--check", "jobs,disk"], "--check: invalid value 'disk'"),
     (["--job", "nope"], "--job: invalid value 'nope': no job has that name"),
     (["--exclude", "nope"], "--exclude: invalid value 'nope'"),
     (["--tag", "nope"], "--tag: invalid value 'nope': known tags: none"),
     (["--overdue", "0.5x"], "--overdue: invalid value '0.5x'"),
     (["--overdue", "often"], "--overdue: invalid value 'often'"),
     (["--runner-mode", "cron"], "--runner-mode: invalid value 'cron'"),
     (["--warning", "soon"], "--warning: invalid value 'soon'"),
     (["--warning", "2m", "--critical", "1m"], "--critical: invalid value '1m'")],
)  # fmt: skip
def test_bad_options_are_unknown_naming_the_option(
    sqlite_url: str, options: list[str], message: str
) -> None:
    result = check(sqlite_url, *options)
    assert result.returncode == 3
    assert result.stdout.startswith(f"DIRECTOR-JOBS UNKNOWN - {message}")
    assert len(result.stdout.splitlines()) == 1


def test_an_unreachable_database_is_critical_without_its_password() -> None:
    url = "postgresql://monitor:s3cret-pw@127.0.0.1:1/director"
    result = check(url)
    assert result.returncode == 2
    assert result.stdout.startswith("DIRECTOR-JOBS CRITICAL - database unreachable")
    assert "s3cret-pw" not in result.stdout + result.stderr
    # When the database is not what is checked, not knowing is UNKNOWN.
    assert check(url, "--check", "jobs").returncode == 3


def test_it_reads_a_database_it_cannot_write(tmp_path: Path) -> None:
    """The nagios user's case: the file is not writable for it (here a read-only mount)."""
    folder = tmp_path / "db"
    folder.mkdir()
    url = f"sqlite:///{folder / 'jobs.db'}"
    add(url, "broken", "--type", "command", "--interval", "1h",
        "--parameters", '{"command": "false"}')  # fmt: skip
    run_once(url)
    script = f"""
        mount --bind {folder} {folder}
        mount -o remount,bind,ro {folder}
        $DIRECTOR health check --check jobs,database || echo "exit $?"
    """
    result = in_private_mounts(script, clean_env(DIRECTOR_JOBS_DATABASE_URL=url))
    assert "DIRECTOR-JOBS CRITICAL - database reachable, 1 job, 1 failed" in result.stdout
    assert result.stdout.rstrip().endswith("exit 2"), result.stdout + result.stderr


def test_a_run_left_running_past_its_timeout_is_critical(sqlite_url: str, tmp_path: Path) -> None:
    """A runner killed hard (or hung) leaves its run marked running; the check sees it."""
    add(sqlite_url, "hangs", "--type", "command", "--timeout", "2s",
        "--parameters", '{"command": ["sleep", "600"]}')  # fmt: skip
    with (tmp_path / "runner.log").open("wb") as log:
        runner = subprocess.Popen([*DIRECTOR, "jobs", "run", "hangs"],
                                  env=director_env(sqlite_url), stdout=log, stderr=log)  # fmt: skip
    try:
        wait_for(lambda: "running=1" in check(sqlite_url, "--check", "jobs").stdout,
                 "the job to run")  # fmt: skip
    finally:
        runner.kill()  # SIGKILL: no chance to close the run
        runner.wait(timeout=60)

    def past_timeout() -> str | None:
        result = check(sqlite_url, "--check", "jobs")
        return result.stdout if result.returncode == 2 else None

    output = wait_for(past_timeout, "the run to be past its timeout", seconds=60)
    assert re.search(r"^CRITICAL: job hangs: running for \d+s, past its timeout of 2s$",
                     output, re.M), output  # fmt: skip


def test_icinga_runs_the_plugin_through_the_shipped_check_command(sqlite_url: str) -> None:
    """contrib/icinga2's CheckCommand in a real icinga2 daemon: the service's state and
    output are the plugin's, and an array variable becomes repeated options."""
    for name in ("broken", "scratch"):
        add(sqlite_url, name, "--type", "command", "--interval", "1h",
            "--parameters", '{"command": "false"}')  # fmt: skip
    run_once(sqlite_url)
    daemon = IcingaDaemon(Path(tempfile.mkdtemp(prefix="director-jobs-icinga-")), require_icinga2())
    try:
        daemon.setup()
        enabled = daemon.etc / "features-enabled" / "checker.conf"
        enabled.symlink_to("../features-available/checker.conf")
        shutil.copy(REPO / "contrib" / "icinga2" / "director-jobs.conf", daemon.etc / "conf.d")
        binary = Path(sys.executable).parent / "director"
        (daemon.etc / "conf.d" / "runner.conf").write_text(f"""
object Host "runner-host" {{
  check_command = "dummy"
  enable_active_checks = false
}}
object Service "director-jobs" {{
  host_name = "runner-host"
  check_command = "director-jobs"
  check_interval = 1s
  retry_interval = 1s
  vars.director_jobs_binary = "{binary}"
  vars.director_jobs_database_url = "{sqlite_url}"
  vars.director_jobs_checks = "jobs,database"
  vars.director_jobs_exclude = [ "scratch" ]
}}
""")
        daemon.start()

        def checked() -> dict[str, Any] | None:
            status, body = daemon.get_json("/v1/objects/services/runner-host!director-jobs")
            result = body["results"][0]["attrs"]["last_check_result"] if status == 200 else None
            return result if result and result.get("output") else None

        result = wait_for(checked, "Icinga to run the check", seconds=120)
    finally:
        daemon.stop()
        shutil.rmtree(daemon.folder, ignore_errors=True)
    assert result["exit_status"] == 2 and result["state"] == 2, result
    assert result["output"].startswith(
        "DIRECTOR-JOBS CRITICAL - database reachable, 1 job, 1 failed"
    )
    assert "CRITICAL: job broken: last run" in result["output"]
    assert "scratch" not in result["output"]
    assert "failed=1" in result["performance_data"]


def test_the_deployments_check_follows_the_last_deployment(db_url: str, tmp_path: Path) -> None:
    from test_deploy_support import SAMPLE, put_objects, run_deploy

    never = check(db_url, "--check", "deployments")
    assert never.returncode == 0, never.stdout
    assert never.stdout.startswith("DIRECTOR-JOBS OK - no deployment yet")
    put_objects(db_url, [("host", "bad!name", {})])  # an object name icinga2 would refuse
    run_deploy(db_url, {"target": "directory", "path": str(tmp_path / "o"), "validate": False})
    failed = check(db_url, "--check", "deployments,database")
    assert failed.returncode == 2, failed.stdout
    assert failed.stdout.startswith("DIRECTOR-JOBS CRITICAL - database reachable, last deployment")
    assert f"CRITICAL: deployments: #1 to directory:{tmp_path / 'o'} failed at " in failed.stdout
    assert "bad!name" in failed.stdout and "deployment_failed=1" in failed.stdout
    put_objects(db_url, SAMPLE)
    settings = {"target": "directory", "path": str(tmp_path / "ok"), "validate": False}
    run_deploy(db_url, settings)
    run_deploy(db_url, settings)  # unchanged: the deployment before it still counts
    fixed = check(db_url, "--check", "deployments")
    assert fixed.returncode == 0, fixed.stdout
    assert "last deployment ok" in fixed.stdout and "deployment_failed=0" in fixed.stdout
    default = check(db_url)
    assert "deployment" not in default.stdout  # asked for by name only
