"""Third-party job types through the `director_jobs.job_types` entry-point group, for real:
a distribution on PYTHONPATH, `director` as a child process; a broken plug-in fails only its
own jobs."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import run_director
from sqlalchemy import create_engine, insert, select

from director_jobs.db.schema import jobs

GOOD_MODULE = '''
"""A well-behaved plug-in, plus a few badly-behaved ones."""

from director_jobs.job_types.base import JobFailed, JobResult, JobType, Parameter


class HelloJob(JobType):
    name = "hello-plugin"
    description = "Greets someone from a plug-in."
    parameters = (
        Parameter("who", (str,), "Whom to greet.", default="world"),
        Parameter("fail", (bool,), "Fail on purpose.", default=False),
    )

    def run(self, params, context):
        context.logger.info("hello %s", params["who"])
        if params["fail"]:
            raise JobFailed("asked to fail", exit_code=7)
        return JobResult(summary="greeted")


class CrashingJob(JobType):
    name = "crash-plugin"
    description = "Raises an unexpected exception."

    def run(self, params, context):
        raise RuntimeError("plug-in bug")


class ExitingJob(JobType):
    name = "exit-plugin"
    description = "Calls sys.exit() in run()."

    def run(self, params, context):
        raise SystemExit(3)


class BadInit(JobType):
    name = "bad-init"
    description = "Cannot be created."

    def __init__(self):
        raise OSError("config file missing")

    def run(self, params, context):
        return None


class CheckBug(JobType):
    name = "check-bug"
    description = "Its parameter check raises something other than InvalidInput."

    def check(self, params):
        raise RuntimeError("plug-in bug in check")

    def run(self, params, context):
        return None


class NoDescription(JobType):
    name = "no-description"

    def run(self, params, context):
        return None


class NotAJobType:
    pass


class Clash(HelloJob):
    description = "Tries to replace the built-in command type."
'''

ENTRY_POINTS = """\
[director_jobs.job_types]
hello-plugin = dj_plugin_ok:HelloJob
crash-plugin = dj_plugin_ok:CrashingJob
exit-plugin = dj_plugin_ok:ExitingJob
broken-plugin = dj_plugin_broken:Missing
bad-init = dj_plugin_ok:BadInit
not-a-type = dj_plugin_ok:NotAJobType
check-bug = dj_plugin_ok:CheckBug
no-description = dj_plugin_ok:NoDescription
"""

BROKEN_ERROR = (
    "job type 'broken-plugin': cannot load plug-in dj_plugin_broken:Missing: "
    "ImportError: needs the frobnicate library"
)


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """A plug-in distribution installed by dropping it on PYTHONPATH."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "dj_plugin_ok.py").write_text(textwrap.dedent(GOOD_MODULE))
    (site / "dj_plugin_broken.py").write_text('raise ImportError("needs the frobnicate library")\n')
    dist = site / "dj_plugin_ok-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dj-plugin-ok\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    return {"PYTHONPATH": str(site)}


def director(url: str, env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = run_director(url, *args, env=env)
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    return result


def history(url: str, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    runs = json.loads(director(url, env, "jobs", "history", "--json").stdout)
    return {r["job"]: r for r in runs}


def insert_job(url: str, name: str, type_name: str) -> None:
    """Store a job directly (`jobs add` refuses a type it cannot load)."""
    now = datetime.now(UTC)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(jobs).values(
                    name=name,
                    type=type_name,
                    parameters={},
                    interval_seconds=3600.0,
                    cron=None,
                    timezone=None,
                    timeperiod=None,
                    disabled=False,
                    timeout_seconds=60.0,
                    retries=0,
                    retry_delay_seconds=60.0,
                    tags=[],
                    description="",
                    confirm=False,
                    created_at=now,
                    updated_at=now,
                    next_due_at=now,
                    attempt=0,
                )
            )
    finally:
        engine.dispose()


def claimed(url: str) -> dict[str, str | None]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: by for name, by in connection.execute(select(jobs.c.name, jobs.c.claimed_by))
            }
    finally:
        engine.dispose()


def test_types_lists_plugins_and_marks_broken_ones(
    sqlite_url: str, plugin_env: dict[str, str]
) -> None:
    table = director(sqlite_url, plugin_env, "jobs", "types")
    as_json = json.loads(director(sqlite_url, plugin_env, "jobs", "types", "--json").stdout)

    by_name = {t["name"]: t for t in as_json}
    assert by_name["hello-plugin"] == {
        "name": "hello-plugin",
        "description": "Greets someone from a plug-in.",
        "origin": "plug-in",
    }
    assert by_name["broken-plugin"] == {
        "name": "broken-plugin",
        "description": f"BROKEN: {BROKEN_ERROR}",
        "origin": "plug-in",
    }
    assert by_name["bad-init"]["description"] == (
        "BROKEN: job type 'bad-init': plug-in dj_plugin_ok:BadInit failed to start: "
        "OSError: config file missing"
    )
    assert by_name["not-a-type"]["description"] == (
        "BROKEN: job type 'not-a-type': plug-in dj_plugin_ok:NotAJobType is not a JobType subclass"
    )
    assert by_name["no-description"]["description"] == (
        "BROKEN: job type 'no-description': plug-in dj_plugin_ok:NoDescription does not set "
        "the class attribute 'description'"
    )
    assert by_name["self-check"]["origin"] == "built-in"
    assert by_name["command"]["origin"] == "built-in"
    assert table.stderr == ""
    lines = table.stdout.splitlines()
    assert any(line.split()[:2] == ["hello-plugin", "plug-in"] for line in lines)
    assert any(line.split()[:3] == ["broken-plugin", "plug-in", "BROKEN:"] for line in lines)


def test_a_plugin_cannot_replace_a_built_in_type(
    sqlite_url: str, plugin_env: dict[str, str], tmp_path: Path
) -> None:
    dist = tmp_path / "site" / "dj_plugin_clash-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dj-plugin-clash\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[director_jobs.job_types]\ncommand = dj_plugin_ok:Clash\n"
    )

    result = director(sqlite_url, plugin_env, "jobs", "types", "--json")

    types = json.loads(result.stdout)
    assert [t["name"] for t in types].count("command") == 1
    [command] = [t for t in types if t["name"] == "command"]
    assert command["origin"] == "built-in"
    assert command["description"] != "Tries to replace the built-in command type."
    assert (
        "plug-in job type 'command' (dj_plugin_ok:Clash) ignored: a built-in type has that name"
        in (result.stderr)
    )
    director(
        sqlite_url,
        plugin_env,
        "jobs",
        "add",
        "c",
        "--type",
        "command",
        "--parameters",
        '{"command": ["true"]}',
    )
    director(sqlite_url, plugin_env, "jobs", "run", "c")
    assert history(sqlite_url, plugin_env)["c"]["status"] == "success"


def test_a_plugin_job_is_defined_and_runs(sqlite_url: str, plugin_env: dict[str, str]) -> None:
    defaults = json.loads(
        director(sqlite_url, plugin_env, "jobs", "default-parameters", "hello-plugin").stdout
    )
    assert defaults == {"who": "world", "fail": False}
    director(
        sqlite_url,
        plugin_env,
        "jobs",
        "add",
        "greet",
        "--type",
        "hello-plugin",
        "--parameters",
        '{"who": "Icinga"}',
        "--interval",
        "1h",
    )
    shown = json.loads(director(sqlite_url, plugin_env, "jobs", "show", "greet", "--json").stdout)
    assert shown["effective_parameters"] == {"who": "Icinga", "fail": False}

    result = director(sqlite_url, plugin_env, "-v", "jobs", "run")

    assert "[INFO ] hello Icinga" in result.stderr
    run = history(sqlite_url, plugin_env)["greet"]
    assert (run["status"], run["type"], run["trigger"], run["exit_code"]) == (
        "success",
        "hello-plugin",
        "schedule",
        0,
    )
    output = json.loads(
        director(sqlite_url, plugin_env, "jobs", "history", "greet", "--output", "--json").stdout
    )
    assert "INFO: hello Icinga" in output[0]["output"]


def test_a_plugin_validates_its_parameters(sqlite_url: str, plugin_env: dict[str, str]) -> None:
    result = director(
        sqlite_url,
        plugin_env,
        "jobs",
        "add",
        "greet",
        "--type",
        "hello-plugin",
        "--parameters",
        '{"whom": "x"}',
        code=2,
    )

    assert result.stderr.splitlines() == [
        "director: error: parameters.whom: invalid value 'x': "
        "unknown parameter; hello-plugin takes fail, who"
    ]
    assert json.loads(director(sqlite_url, plugin_env, "jobs", "list", "--json").stdout) == []


def test_a_failing_plugin_job_is_a_failed_run(sqlite_url: str, plugin_env: dict[str, str]) -> None:
    director(
        sqlite_url,
        plugin_env,
        "jobs",
        "add",
        "fails",
        "--type",
        "hello-plugin",
        "--parameters",
        '{"fail": true}',
    )

    result = director(sqlite_url, plugin_env, "jobs", "run", "fails", code=1)

    assert "asked to fail" in result.stderr
    run = history(sqlite_url, plugin_env)["fails"]
    assert (run["status"], run["exit_code"], run["error"]) == ("error", 7, "asked to fail")


def test_jobs_add_refuses_a_broken_type(sqlite_url: str, plugin_env: dict[str, str]) -> None:
    result = run_director(sqlite_url, "jobs", "add", "b", "--type", "broken-plugin", env=plugin_env)

    assert result.returncode != 0
    assert result.stderr.splitlines() == [f"director: error: {BROKEN_ERROR}"]
    assert json.loads(director(sqlite_url, plugin_env, "jobs", "list", "--json").stdout) == []


def test_jobs_add_reports_a_plugin_check_bug_in_one_line(
    sqlite_url: str, plugin_env: dict[str, str]
) -> None:
    result = director(
        sqlite_url,
        plugin_env,
        "jobs",
        "add",
        "x",
        "--type",
        "check-bug",
        "--interval",
        "1h",
        code=1,
    )
    assert result.stderr.splitlines() == [
        "director: error: job type 'check-bug': its parameter check failed: "
        "RuntimeError: plug-in bug in check"
    ]
    assert json.loads(director(sqlite_url, plugin_env, "jobs", "list", "--json").stdout) == []


def test_a_broken_plugin_fails_only_its_own_jobs(
    sqlite_url: str, plugin_env: dict[str, str]
) -> None:
    director(
        sqlite_url, plugin_env, "jobs", "add", "greet", "--type", "hello-plugin", "--interval", "1h"
    )
    director(
        sqlite_url, plugin_env, "jobs", "add", "check", "--type", "self-check", "--interval", "1h"
    )
    insert_job(sqlite_url, "uses-broken", "broken-plugin")
    insert_job(sqlite_url, "uses-crash", "crash-plugin")
    insert_job(sqlite_url, "uses-bad-init", "bad-init")
    insert_job(sqlite_url, "uses-vanished", "uninstalled-plugin")
    insert_job(sqlite_url, "uses-check-bug", "check-bug")

    result = director(sqlite_url, plugin_env, "jobs", "run", code=1)

    assert "Traceback" not in result.stderr
    runs = history(sqlite_url, plugin_env)
    assert {name: r["status"] for name, r in runs.items()} == {
        "greet": "success",
        "check": "success",
        "uses-broken": "error",
        "uses-crash": "error",
        "uses-bad-init": "error",
        "uses-vanished": "error",
        "uses-check-bug": "error",
    }
    assert runs["uses-broken"]["error"] == BROKEN_ERROR
    assert runs["uses-check-bug"]["error"] == (
        "job type 'check-bug': its parameter check failed: RuntimeError: plug-in bug in check"
    )
    assert runs["uses-crash"]["error"] == "RuntimeError: plug-in bug"
    assert runs["uses-bad-init"]["error"].startswith(
        "job type 'bad-init': plug-in dj_plugin_ok:BadInit failed"
    )
    assert runs["uses-vanished"]["error"].startswith(
        "type: unknown job type 'uninstalled-plugin'; known types: "
    )
    assert "job uses-broken finished: error in " in result.stderr
    assert BROKEN_ERROR in result.stderr
    assert set(claimed(sqlite_url).values()) == {None}


def test_a_broken_plugin_job_run_by_name(sqlite_url: str, plugin_env: dict[str, str]) -> None:
    director(sqlite_url, plugin_env, "jobs", "add", "greet", "--type", "hello-plugin")
    insert_job(sqlite_url, "uses-broken", "broken-plugin")

    result = director(sqlite_url, plugin_env, "jobs", "run", "uses-broken", "greet", code=1)

    assert BROKEN_ERROR in result.stderr
    runs = history(sqlite_url, plugin_env)
    assert (runs["uses-broken"]["status"], runs["greet"]["status"]) == ("error", "success")
    shown = json.loads(
        director(sqlite_url, plugin_env, "jobs", "show", "uses-broken", "--json").stdout
    )
    assert shown["effective_parameters"] == {"error": BROKEN_ERROR}
    assert "uses-broken" in director(sqlite_url, plugin_env, "jobs", "list").stdout


def test_broken_plugin_with_the_plugin_uninstalled_entirely(
    sqlite_url: str, plugin_env: dict[str, str]
) -> None:
    """Without PYTHONPATH the plug-in's jobs fail as unknown types; built-ins still run."""
    director(
        sqlite_url, plugin_env, "jobs", "add", "greet", "--type", "hello-plugin", "--interval", "1h"
    )
    director(
        sqlite_url, plugin_env, "jobs", "add", "check", "--type", "self-check", "--interval", "1h"
    )

    result = run_director(sqlite_url, "jobs", "run")

    assert result.returncode == 1
    runs = history(sqlite_url, {})
    assert (runs["greet"]["status"], runs["check"]["status"]) == ("error", "success")
    assert runs["greet"]["error"].startswith("type: unknown job type 'hello-plugin'")


def test_a_plugin_calling_sys_exit_does_not_stop_the_runner(
    sqlite_url: str, plugin_env: dict[str, str]
) -> None:
    """(At commit 1dc2fd2, with jobs run in-process, this killed the runner with exit 3.)"""
    director(sqlite_url, plugin_env, "db", "upgrade")
    insert_job(sqlite_url, "exits", "exit-plugin")  # oldest due first: runs before the others
    director(
        sqlite_url, plugin_env, "jobs", "add", "check", "--type", "self-check", "--interval", "1h"
    )

    result = run_director(sqlite_url, "jobs", "run", env=plugin_env)

    assert result.returncode == 1, result.stderr
    runs = history(sqlite_url, plugin_env)
    assert runs["exits"]["status"] == "error"
    assert runs["check"]["status"] == "success"
    assert set(claimed(sqlite_url).values()) == {None}
