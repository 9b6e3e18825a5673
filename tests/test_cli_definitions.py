"""`director jobs …` as a user types it: define, change, inspect, trigger and execute jobs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import invoke, run_director

from director_jobs import __version__
from director_jobs.cli import root
from director_jobs.cli.app import App
from director_jobs.clock import FakeClock
from director_jobs.job_types.command import CommandJob
from director_jobs.job_types.self_check import SelfCheckJob

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

JOB_KEYS = {
    "name",
    "type",
    "description",
    "parameters",
    "interval",
    "cron",
    "timezone",
    "timeperiod",
    "disabled",
    "timeout",
    "retries",
    "retry_delay",
    "tags",
    "confirm",
    "next_due",
    "last_attempt",
    "running_on",
    "created_at",
    "updated_at",
}
RUN_KEYS = {
    "id",
    "job",
    "status",
    "trigger",
    "attempt",
    "started_at",
    "finished_at",
    "duration",
    "exit_code",
    "error",
}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def invoke_at(url: str, now: datetime, *args: str, env: dict[str, str] | None = None) -> Result:
    """Like conftest.invoke, but with the CLI's clock fixed at `now` (exact times)."""
    full_env = {
        "DIRECTOR_JOBS_DATABASE_URL": url,
        "DIRECTOR_JOBS_CONFIG": "",
        "TZ": "UTC",
        **(env or {}),
    }
    return CliRunner().invoke(
        root, list(args), env=full_env, obj=App(clock=FakeClock(now)), catch_exceptions=False
    )


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.output)
    return result


def jobs_json(url: str) -> list[dict[str, Any]]:
    return json.loads(ok(invoke(url, "jobs", "list", "--json")).stdout)


def job_json(url: str, name: str) -> dict[str, Any]:
    return json.loads(ok(invoke(url, "jobs", "show", name, "--json")).stdout)


def history_json(url: str, *args: str) -> list[dict[str, Any]]:
    return json.loads(ok(invoke(url, "jobs", "history", *args, "--json")).stdout)


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- jobs add ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "seconds", "text"),
    [
        ("90", 90.0, "1m30s"),
        ("90s", 90.0, "1m30s"),
        ("15m", 900.0, "15m"),
        ("1h30m", 5400.0, "1h30m"),
    ],
)
def test_add_interval_forms(sqlite_url: str, interval: str, seconds: float, text: str) -> None:
    result = ok(
        invoke_at(
            sqlite_url, NOW, "jobs", "add", "every", "--type", "self-check", "--interval", interval
        )
    )

    assert (
        result.stdout
        == f"added job every (self-check, every {text}); next due 2026-06-01 12:00:00 UTC\n"
    )
    assert result.stderr == ""
    [job] = jobs_json(sqlite_url)
    assert job["interval"] == seconds
    assert job["cron"] is None
    assert job["next_due"] == "2026-06-01T12:00:00Z"  # a new interval job is due at once


@pytest.mark.parametrize(
    ("cron", "timezone", "next_due"),
    [
        ("@hourly", None, "2026-06-01T13:00:00Z"),
        ("30 2 * * *", None, "2026-06-02T02:30:00Z"),
        ("30 2 * * *", "Europe/Berlin", "2026-06-02T00:30:00Z"),  # 02:30 CEST
        ("0 9 * * mon-fri", "America/New_York", "2026-06-01T13:00:00Z"),  # Monday 09:00 EDT
    ],
)
def test_add_cron_with_and_without_timezone(
    sqlite_url: str, cron: str, timezone: str | None, next_due: str
) -> None:
    args = ["jobs", "add", "c", "--type", "self-check", "--cron", cron]
    if timezone:
        args += ["--timezone", timezone]
    ok(invoke_at(sqlite_url, NOW, *args))

    [job] = jobs_json(sqlite_url)
    assert (job["cron"], job["interval"], job["timezone"]) == (cron, None, timezone)
    assert job["next_due"] == next_due


def test_add_with_every_option(sqlite_url: str) -> None:
    result = ok(
        invoke_at(
            sqlite_url,
            NOW,
            "jobs",
            "add",
            "full",
            "--type",
            "command",
            "--parameters",
            '{"command": ["echo", "hi"], "env": {"A": "1"}}',
            "--interval",
            "1h",
            "--timeout",
            "10m",
            "--retries",
            "3",
            "--retry-delay",
            "0",
            "--tag",
            "cmdb",
            "--tag",
            "nightly",
            "--description",
            "Full example",
            "--confirm",
            "--disabled",
        )
    )
    assert result.stdout.startswith("added job full (command, every 1h); next due ")

    [job] = jobs_json(sqlite_url)
    assert set(job) >= JOB_KEYS
    assert job == {
        **job,
        "name": "full",
        "type": "command",
        "parameters": {"command": ["echo", "hi"], "env": {"A": "1"}},
        "interval": 3600.0,
        "cron": None,
        "timezone": None,
        "timeperiod": None,
        "timeout": 600.0,
        "retries": 3,
        "retry_delay": 0.0,
        "tags": ["cmdb", "nightly"],
        "description": "Full example",
        "confirm": True,
        "disabled": True,
        "last_attempt": None,
        "running_on": None,
        "created_at": "2026-06-01T12:00:00Z",
        "updated_at": "2026-06-01T12:00:00Z",
    }


def test_add_defaults(sqlite_url: str) -> None:
    ok(invoke_at(sqlite_url, NOW, "jobs", "add", "plain", "--type", "self-check"))

    [job] = jobs_json(sqlite_url)
    assert {
        k: job[k]
        for k in (
            "parameters",
            "interval",
            "cron",
            "disabled",
            "timeout",
            "retries",
            "retry_delay",
            "tags",
            "confirm",
            "description",
            "next_due",
        )
    } == {
        "parameters": {},
        "interval": None,
        "cron": None,
        "disabled": False,
        "timeout": 3600.0,
        "retries": 0,
        "retry_delay": 60.0,
        "tags": [],
        "confirm": False,
        "description": "",
        "next_due": None,  # no schedule: manual only
    }


# -- jobs list / show ---------------------------------------------------------------------


def test_list_table_and_json(sqlite_url: str) -> None:
    ok(
        invoke_at(
            sqlite_url,
            NOW,
            "jobs",
            "add",
            "b-cron",
            "--type",
            "self-check",
            "--cron",
            "0 3 * * *",
            "--timezone",
            "Europe/Berlin",
        )
    )
    ok(
        invoke_at(
            sqlite_url,
            NOW,
            "jobs",
            "add",
            "a-interval",
            "--type",
            "self-check",
            "--interval",
            "15m",
        )
    )
    ok(invoke_at(sqlite_url, NOW, "jobs", "add", "c-off", "--type", "self-check", "--disabled"))

    table = ok(invoke(sqlite_url, "jobs", "list")).stdout.splitlines()
    assert [re.split(r" {2,}", line) for line in table] == [
        ["NAME", "TYPE", "SCHEDULE", "PERIOD", "STATE", "LAST RUN", "LAST RESULT", "NEXT START"],
        [
            "a-interval",
            "self-check",
            "every 15m",
            "-",
            "enabled",
            "-",
            "-",
            "2026-06-01 12:00:00 UTC",
        ],
        [
            "b-cron",
            "self-check",
            "cron '0 3 * * *' Europe/Berlin",
            "-",
            "enabled",
            "-",
            "-",
            "2026-06-02 01:00:00 UTC",
        ],
        ["c-off", "self-check", "manual", "-", "disabled", "-", "-", "-"],
    ]
    # Aligned columns: every header starts where its values start.
    headers = ("TYPE", "SCHEDULE", "PERIOD", "STATE", "LAST RUN", "LAST RESULT", "NEXT START")
    starts = [table[0].index(h) for h in headers]
    for line in table[1:]:
        assert all(line[s - 2 : s] == "  " and line[s] != " " for s in starts), line

    listed = jobs_json(sqlite_url)
    assert isinstance(listed, list)
    assert [j["name"] for j in listed] == ["a-interval", "b-cron", "c-off"]
    for job in listed:
        assert set(job) >= JOB_KEYS
    a, b, c = listed
    assert (
        a["type"],
        a["interval"],
        a["cron"],
        a["timezone"],
        a["timeperiod"],
        a["disabled"],
        a["next_due"],
    ) == ("self-check", 900.0, None, None, None, False, "2026-06-01T12:00:00Z")
    assert (b["interval"], b["cron"], b["timezone"], b["next_due"]) == (
        None,
        "0 3 * * *",
        "Europe/Berlin",
        "2026-06-02T01:00:00Z",
    )
    assert (c["disabled"], c["next_due"]) == (True, None)
    assert [(j["running"], j["last_run"]) for j in listed] == [(False, None)] * 3

    # After a run, the list shows how the last one ended.
    ok(invoke_at(sqlite_url, NOW, "jobs", "run", "a-interval"))
    table = ok(invoke(sqlite_url, "jobs", "list")).stdout.splitlines()
    assert re.split(r" {2,}", table[1])[:7] == [
        "a-interval",
        "self-check",
        "every 15m",
        "-",
        "enabled",
        "2026-06-01 12:00:00 UTC",
        "success",
    ]
    last = jobs_json(sqlite_url)[0]["last_run"]
    assert (last["status"], last["started_at"]) == ("success", "2026-06-01T12:00:00Z")
    assert isinstance(last["id"], int) and last["duration"] is not None


def test_list_empty(sqlite_url: str) -> None:
    assert ok(invoke(sqlite_url, "jobs", "list", "--json")).stdout == "[]\n"
    assert ok(invoke(sqlite_url, "jobs", "list")).stdout.splitlines() == [
        "NAME  TYPE  SCHEDULE  PERIOD  STATE  LAST RUN  LAST RESULT  NEXT START"
    ]


def test_show_text_marks_defaults(sqlite_url: str) -> None:
    ok(
        invoke_at(
            sqlite_url,
            NOW,
            "jobs",
            "add",
            "cmd",
            "--type",
            "command",
            "--parameters",
            '{"command": "true", "shell": true}',
            "--cron",
            "@daily",
            "--retries",
            "2",
            "--retry-delay",
            "5m",
            "--tag",
            "x",
            "--description",
            "d",
        )
    )

    lines = ok(invoke(sqlite_url, "jobs", "show", "cmd")).stdout.splitlines()
    split = lines.index("parameters:")
    rows = {}
    for line in lines[:split]:
        assert re.fullmatch(r"[a-z .]+: +\S.*", line), line
        label, _, value = line.partition(":")
        rows[label] = value.strip()
    assert {
        k: rows.get(k)
        for k in (
            "name",
            "type",
            "description",
            "schedule",
            "time period",
            "state",
            "next due",
            "last attempt",
            "timeout",
            "retries",
            "tags",
            "confirm",
        )
    } == {
        "name": "cmd",
        "type": "command",
        "description": "d",
        "schedule": "cron '@daily'",
        "time period": "-",
        "state": "enabled",
        "next due": "2026-06-02 00:00:00 UTC",
        "last attempt": "-",
        "timeout": "1h",
        "retries": "2 (first after 5m, doubling)",
        "tags": "x",
        "confirm": "no",
    }
    # Values line up in one column.
    assert len({len(line) - len(line.split(":", 1)[1].lstrip()) for line in lines[:split]}) == 1
    assert lines[split + 1 :] == [
        "  command = 'true'",
        "  shell = True",
        "  env = {}  (default)",
        "  inherit_env = True  (default)",
        "  cwd = None  (default)",
        "  user = None  (default)",
        "  group = None  (default)",
        "  success_exit_codes = [0]  (default)",
    ]


def test_show_json_has_effective_parameters_with_defaults(sqlite_url: str) -> None:
    ok(
        invoke_at(
            sqlite_url,
            NOW,
            "jobs",
            "add",
            "cmd",
            "--type",
            "command",
            "--parameters",
            '{"command": ["true"]}',
        )
    )
    ok(invoke_at(sqlite_url, NOW, "jobs", "add", "sc", "--type", "self-check"))

    cmd = job_json(sqlite_url, "cmd")
    assert set(cmd) >= JOB_KEYS
    assert cmd["parameters"] == {"command": ["true"]}
    assert cmd["effective_parameters"] == {
        "command": ["true"],
        "shell": False,
        "env": {},
        "inherit_env": True,
        "cwd": None,
        "user": None,
        "group": None,
        "success_exit_codes": [0],
    }
    assert cmd["recent_runs"] == []
    assert job_json(sqlite_url, "sc")["effective_parameters"] == {
        "message": "",
        "levels": ["trace", "debug", "info", "warning", "error"],
    }


def test_show_unknown_job(sqlite_url: str) -> None:
    result = invoke(sqlite_url, "jobs", "show", "nope")
    assert result.exit_code == 2
    assert result.stderr == "director: error: job: no job named 'nope'\n"


# -- jobs set ---------------------------------------------------------------------------


def test_set_changing_the_schedule_recomputes_next_due(sqlite_url: str) -> None:
    ok(invoke_at(sqlite_url, NOW, "jobs", "add", "j", "--type", "self-check", "--interval", "1h"))
    assert jobs_json(sqlite_url)[0]["next_due"] == "2026-06-01T12:00:00Z"

    later = NOW + timedelta(hours=5)  # 17:00 UTC
    result = ok(
        invoke_at(
            sqlite_url,
            later,
            "jobs",
            "set",
            "j",
            "--cron",
            "0 3 * * *",
            "--timezone",
            "Europe/Berlin",
        )
    )
    assert result.stdout == "updated job j; next due 2026-06-02 01:00:00 UTC\n"
    job = jobs_json(sqlite_url)[0]
    assert (job["interval"], job["cron"], job["timezone"]) == (None, "0 3 * * *", "Europe/Berlin")
    assert job["next_due"] == "2026-06-02T01:00:00Z"
    assert job["updated_at"] == "2026-06-01T17:00:00Z"
    assert job["created_at"] == "2026-06-01T12:00:00Z"

    # Only the zone changes: the next 03:00 is now in New York.
    ok(invoke_at(sqlite_url, later, "jobs", "set", "j", "--timezone", "America/New_York"))
    assert jobs_json(sqlite_url)[0]["next_due"] == "2026-06-02T07:00:00Z"

    # Back to an interval: a never-attempted job is due at once.
    ok(invoke_at(sqlite_url, later, "jobs", "set", "j", "--interval", "15m"))
    job = jobs_json(sqlite_url)[0]
    assert (job["interval"], job["cron"], job["next_due"]) == (900.0, None, "2026-06-01T17:00:00Z")


def test_set_other_fields_keeps_next_due(sqlite_url: str) -> None:
    ok(
        invoke_at(
            sqlite_url, NOW, "jobs", "add", "j", "--type", "self-check", "--cron", "0 3 * * *"
        )
    )
    before = jobs_json(sqlite_url)[0]

    ok(
        invoke_at(
            sqlite_url,
            NOW + timedelta(days=3),
            "jobs",
            "set",
            "j",
            "--description",
            "new",
            "--retries",
            "4",
            "--tag",
            "t",
            "--confirm",
            "--parameters",
            '{"message": "m"}',
        )
    )

    after = jobs_json(sqlite_url)[0]
    assert after["next_due"] == before["next_due"] == "2026-06-02T03:00:00Z"
    assert (
        after["description"],
        after["retries"],
        after["tags"],
        after["confirm"],
        after["parameters"],
    ) == ("new", 4, ["t"], True, {"message": "m"})


def test_set_no_schedule_makes_the_job_manual(sqlite_url: str) -> None:
    ok(invoke_at(sqlite_url, NOW, "jobs", "add", "j", "--type", "self-check", "--interval", "1h"))

    result = ok(invoke_at(sqlite_url, NOW, "jobs", "set", "j", "--no-schedule"))

    assert result.stdout == "updated job j; next due -\n"
    job = jobs_json(sqlite_url)[0]
    assert (job["interval"], job["cron"], job["next_due"]) == (None, None, None)
    assert ok(invoke(sqlite_url, "jobs", "next", "j")).stdout == (
        "j has no schedule: it runs only when started by hand or triggered\n"
    )
    assert ok(invoke(sqlite_url, "jobs", "next", "j", "--json")).stdout == "[]\n"


def test_set_with_nothing_to_change_is_a_usage_error(sqlite_url: str) -> None:
    ok(invoke(sqlite_url, "jobs", "add", "j", "--type", "self-check", "--interval", "1h"))
    before = jobs_json(sqlite_url)

    result = invoke(sqlite_url, "jobs", "set", "j")

    assert result.exit_code == 2
    assert "nothing to change: give at least one option" in result.stderr
    assert result.stdout == ""
    assert jobs_json(sqlite_url) == before


def test_set_unknown_job(sqlite_url: str) -> None:
    result = invoke(sqlite_url, "jobs", "set", "nope", "--interval", "5m")
    assert result.exit_code == 2
    assert result.stderr == "director: error: job: no job named 'nope'\n"


# -- enable / disable / delete -----------------------------------------------------------


def test_disable_and_enable(sqlite_url: str) -> None:
    ok(invoke(sqlite_url, "jobs", "add", "j", "--type", "self-check", "--interval", "1h"))

    assert ok(invoke(sqlite_url, "jobs", "disable", "j")).stdout == "disabled job j\n"
    assert jobs_json(sqlite_url)[0]["disabled"] is True
    assert "disabled" in ok(invoke(sqlite_url, "jobs", "list")).stdout.splitlines()[1]

    assert ok(invoke(sqlite_url, "jobs", "enable", "j")).stdout == "enabled job j\n"
    assert jobs_json(sqlite_url)[0]["disabled"] is False


@pytest.mark.parametrize("command", ["enable", "disable", "delete", "trigger", "next", "history"])
def test_commands_on_an_unknown_job(sqlite_url: str, command: str) -> None:
    ok(invoke(sqlite_url, "jobs", "add", "j", "--type", "self-check"))
    before = jobs_json(sqlite_url)

    result = invoke(sqlite_url, "jobs", command, "nope")

    assert result.exit_code == 2
    assert result.stderr == "director: error: job: no job named 'nope'\n"
    assert jobs_json(sqlite_url) == before


def test_delete_keeps_the_history(sqlite_url: str) -> None:
    ok(invoke(sqlite_url, "jobs", "add", "gone", "--type", "self-check"))
    ok(invoke(sqlite_url, "jobs", "add", "stays", "--type", "self-check"))
    assert run_director(sqlite_url, "jobs", "run", "gone").returncode == 0
    [run] = history_json(sqlite_url, "gone")

    assert ok(invoke(sqlite_url, "jobs", "delete", "gone")).stdout == "deleted job gone\n"

    assert [j["name"] for j in jobs_json(sqlite_url)] == ["stays"]
    assert history_json(sqlite_url, "gone") == [run]
    assert history_json(sqlite_url) == [run]
    again = invoke(sqlite_url, "jobs", "delete", "gone")
    assert again.exit_code == 2
    assert again.stderr == "director: error: job: no job named 'gone'\n"


# -- jobs next --------------------------------------------------------------------------


def test_next_for_an_interval_job(sqlite_url: str) -> None:
    ok(
        invoke_at(
            sqlite_url, NOW, "jobs", "add", "j", "--type", "self-check", "--interval", "1h30m"
        )
    )

    text = ok(invoke_at(sqlite_url, NOW, "jobs", "next", "j", "-n", "3")).stdout
    assert text == "2026-06-01 12:00:00 UTC\n2026-06-01 13:30:00 UTC\n2026-06-01 15:00:00 UTC\n"
    as_json = json.loads(
        ok(invoke_at(sqlite_url, NOW, "jobs", "next", "j", "-n", "3", "--json")).stdout
    )
    assert as_json == ["2026-06-01T12:00:00Z", "2026-06-01T13:30:00Z", "2026-06-01T15:00:00Z"]


def test_next_for_a_cron_job_in_a_zone_across_dst(sqlite_url: str) -> None:
    friday = datetime(
        2026, 3, 27, 12, 0, tzinfo=UTC
    )  # Europe/Berlin springs forward on Sunday 29 March
    ok(
        invoke_at(
            sqlite_url,
            friday,
            "jobs",
            "add",
            "j",
            "--type",
            "self-check",
            "--cron",
            "0 3 * * *",
            "--timezone",
            "Europe/Berlin",
        )
    )

    as_json = json.loads(
        ok(invoke_at(sqlite_url, friday, "jobs", "next", "j", "-n", "3", "--json")).stdout
    )
    assert as_json == ["2026-03-28T02:00:00Z", "2026-03-29T01:00:00Z", "2026-03-30T01:00:00Z"]
    text = ok(
        invoke_at(sqlite_url, friday, "--timezone", "Europe/Berlin", "jobs", "next", "j", "-n", "3")
    ).stdout
    assert text == "2026-03-28 03:00:00 CET\n2026-03-29 03:00:00 CEST\n2026-03-30 03:00:00 CEST\n"
    utc_text = ok(invoke_at(sqlite_url, friday, "jobs", "next", "j", "-n", "3")).stdout
    assert utc_text == "2026-03-28 02:00:00 UTC\n2026-03-29 01:00:00 UTC\n2026-03-30 01:00:00 UTC\n"


def test_next_default_count_is_five(sqlite_url: str) -> None:
    ok(invoke_at(sqlite_url, NOW, "jobs", "add", "j", "--type", "self-check", "--cron", "@hourly"))
    times = json.loads(ok(invoke_at(sqlite_url, NOW, "jobs", "next", "j", "--json")).stdout)
    assert times == [f"2026-06-01T{h}:00:00Z" for h in (13, 14, 15, 16, 17)]


# -- jobs trigger -----------------------------------------------------------------------


def test_trigger_queues_a_manual_run_for_the_next_pass(sqlite_url: str) -> None:
    ok(invoke(sqlite_url, "jobs", "add", "nightly", "--type", "self-check", "--cron", "0 3 * * *"))
    ok(invoke(sqlite_url, "jobs", "add", "other", "--type", "self-check", "--cron", "0 3 * * *"))
    scheduled = jobs_json(sqlite_url)[0]["next_due"]

    # Nothing is due: a pass runs nothing.
    assert run_director(sqlite_url, "jobs", "run").returncode == 0
    assert history_json(sqlite_url) == []

    before = datetime.now(UTC)
    result = ok(invoke(sqlite_url, "jobs", "trigger", "nightly"))
    assert result.stdout == (  # the one-shot pass above registered, and is gone now
        "queued run 1 of nightly; no runner runs --forever, so the next `director jobs run` "
        "(cron or a timer) starts it; to run it now: director jobs run nightly\n"
    )
    due = parse_iso(jobs_json(sqlite_url)[0]["next_due"])
    assert before - timedelta(seconds=1) <= due <= datetime.now(UTC)

    done = run_director(sqlite_url, "jobs", "run")
    assert done.returncode == 0, done.stderr

    [run] = history_json(sqlite_url)
    assert (run["job"], run["status"], run["trigger"], run["attempt"]) == (
        "nightly",
        "success",
        "manual",
        1,
    )
    nightly, other = jobs_json(sqlite_url)
    assert nightly["next_due"] == scheduled  # back on its schedule
    assert other["last_attempt"] is None


def test_trigger_a_disabled_job_is_refused_and_changes_nothing(sqlite_url: str) -> None:
    ok(
        invoke(
            sqlite_url,
            "jobs",
            "add",
            "off",
            "--type",
            "self-check",
            "--cron",
            "0 3 * * *",
            "--disabled",
        )
    )
    before = jobs_json(sqlite_url)

    result = invoke(sqlite_url, "jobs", "trigger", "off")

    assert result.exit_code == 2
    assert result.stderr == (
        "director: error: name: invalid value 'off': the job is disabled; enable it, "
        "or run it now with `director jobs run NAME`\n"
    )
    assert jobs_json(sqlite_url) == before
    assert run_director(sqlite_url, "jobs", "run").returncode == 0
    assert history_json(sqlite_url) == []


# -- types and default parameters -----------------------------------------------------------


def test_types_table_and_json(sqlite_url: str) -> None:
    lines = ok(invoke(sqlite_url, "jobs", "types")).stdout.splitlines()
    assert re.fullmatch(r"TYPE +ORIGIN +DESCRIPTION", lines[0])
    assert re.fullmatch(r"command +built-in +" + re.escape(CommandJob.description), lines[1])
    assert any(
        re.fullmatch(r"self-check +built-in +" + re.escape(SelfCheckJob.description), line)
        for line in lines
    )

    types = json.loads(ok(invoke(sqlite_url, "jobs", "types", "--json")).stdout)
    assert isinstance(types, list)
    for entry in types:
        assert set(entry) == {"name", "description", "origin"}
    by_name = {t["name"]: t for t in types}
    assert by_name["command"] == {
        "name": "command",
        "description": CommandJob.description,
        "origin": "built-in",
    }
    assert by_name["self-check"] == {
        "name": "self-check",
        "description": SelfCheckJob.description,
        "origin": "built-in",
    }


def test_default_parameters_prints_the_declared_defaults(sqlite_url: str) -> None:
    result = ok(invoke(sqlite_url, "jobs", "default-parameters", "command"))

    declared = {p.name: p.default for p in CommandJob.parameters}
    assert json.loads(result.stdout) == declared
    assert result.stdout == json.dumps(declared, indent=2) + "\n"
    assert json.loads(
        ok(invoke(sqlite_url, "jobs", "default-parameters", "self-check")).stdout
    ) == {"message": "", "levels": ["trace", "debug", "info", "warning", "error"]}


def test_default_parameters_of_an_unknown_type(sqlite_url: str) -> None:
    result = invoke(sqlite_url, "jobs", "default-parameters", "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("director: error: type: unknown job type 'nope'; known types: ")
    assert "command" in result.stderr
    assert "self-check" in result.stderr


# -- history ------------------------------------------------------------------------------


def test_history_json_shape_newest_first(sqlite_url: str) -> None:
    ok(invoke(sqlite_url, "jobs", "add", "good", "--type", "self-check"))
    ok(
        invoke(
            sqlite_url,
            "jobs",
            "add",
            "bad",
            "--type",
            "command",
            "--parameters",
            '{"command": ["false"]}',
        )
    )

    result = run_director(sqlite_url, "jobs", "run", "good", "bad")
    assert result.returncode == 1, result.stderr

    runs = history_json(sqlite_url)
    assert isinstance(runs, list)
    assert [r["job"] for r in runs] == ["bad", "good"]
    assert runs[0]["id"] > runs[1]["id"]
    for run in runs:
        assert set(run) >= RUN_KEYS
        assert run["trigger"] == "manual"
        assert run["attempt"] == 1
        assert ISO_UTC.fullmatch(run["started_at"])
        assert ISO_UTC.fullmatch(run["finished_at"])
        assert parse_iso(run["started_at"]) <= parse_iso(run["finished_at"])
        assert isinstance(run["duration"], float)
        assert 0 <= run["duration"] < 30
    bad, good = runs
    assert (bad["status"], bad["exit_code"], bad["error"]) == ("error", 1, "command exited with 1")
    assert (good["status"], good["exit_code"], good["error"]) == ("success", 0, None)
    assert history_json(sqlite_url, "good") == [good]
    assert history_json(sqlite_url, "--limit", "1") == [bad]


def test_history_table(sqlite_url: str) -> None:
    ok(invoke(sqlite_url, "jobs", "add", "good", "--type", "self-check"))
    assert run_director(sqlite_url, "jobs", "run", "good").returncode == 0

    lines = ok(invoke(sqlite_url, "jobs", "history")).stdout.splitlines()
    assert re.fullmatch(
        r"ID +JOB +STATUS +TRIGGER +ATTEMPT +STARTED +DURATION +EXIT +ERROR", lines[0]
    )
    assert re.fullmatch(
        r"1 +good +success +manual +1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC +\d+\.\d\ds +0 +-",
        lines[1],
    )
    assert len(lines) == 2


# -- jobs execute -------------------------------------------------------------------------


def test_execute_self_check(sqlite_url: str) -> None:
    result = run_director(sqlite_url, "jobs", "execute", "self-check")

    assert result.returncode == 0, result.stderr
    logs = result.stdout + result.stderr
    assert "[INFO ] Starting job execution" in logs
    assert "[INFO ] Job finished successfully" in logs
    assert re.search(r"^\[INFO \] Duration: \d+\.\d{3} s$", logs, re.MULTILINE)
    assert (
        logs.index("Starting job execution")
        < logs.index("Job finished successfully")
        < logs.index("Duration")
    )
    [run] = history_json(sqlite_url)
    assert (run["job"], run["type"], run["status"], run["trigger"]) == (
        "execute:self-check",
        "self-check",
        "success",
        "execute",
    )


def test_execute_hide_duration(sqlite_url: str) -> None:
    result = run_director(sqlite_url, "jobs", "execute", "self-check", "--hide-duration")

    assert result.returncode == 0, result.stderr
    logs = result.stdout + result.stderr
    assert "[INFO ] Starting job execution" in logs
    assert "[INFO ] Job finished successfully" in logs
    assert "Duration" not in logs


def test_execute_failing_command(sqlite_url: str) -> None:
    result = run_director(
        sqlite_url, "jobs", "execute", "command", "--parameters", '{"command": ["false"]}'
    )

    assert result.returncode == 1
    assert "director: error: command exited with 1\n" in result.stderr
    assert "[ERROR] Job failed: command exited with 1" in result.stderr
    assert "Job finished successfully" not in result.stdout + result.stderr
    [run] = history_json(sqlite_url)
    assert (run["job"], run["status"], run["exit_code"], run["trigger"]) == (
        "execute:command",
        "error",
        1,
        "execute",
    )


def test_execute_with_bad_parameters_records_nothing(sqlite_url: str) -> None:
    result = run_director(
        sqlite_url, "jobs", "execute", "command", "--parameters", '{"shell": true}'
    )

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "director: error: parameters.command: invalid value None: this parameter is required"
    )
    assert history_json(sqlite_url) == []


# -- version and help ----------------------------------------------------------------------


def test_version(sqlite_url: str) -> None:
    result = ok(invoke(sqlite_url, "--version"))
    assert result.stdout == f"director, version {__version__}\n"


def test_python_m_help_as_a_real_process(sqlite_url: str) -> None:
    result = run_director(sqlite_url, "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: director [OPTIONS] COMMAND [ARGS]...\n")
    commands = result.stdout.split("Commands:", 1)[1]
    for name in ("apply", "db", "export", "jobs"):
        assert re.search(rf"^  {name} ", commands, re.MULTILINE), name
    assert result.stderr == ""

    jobs_help = run_director(sqlite_url, "jobs", "--help")
    assert jobs_help.returncode == 0
    for name in (
        "add",
        "default-parameters",
        "delete",
        "disable",
        "enable",
        "execute",
        "history",
        "list",
        "next",
        "run",
        "set",
        "show",
        "trigger",
        "types",
    ):
        assert re.search(rf"^  {name} ", jobs_help.stdout, re.MULTILINE), name


def test_every_option_has_the_environment_variable_the_readme_names(sqlite_url: str) -> None:
    """DIRECTOR_JOBS_<COMMAND>_<OPTION>, from the option's name (not the Python parameter)."""
    added = invoke(
        sqlite_url,
        "jobs",
        "add",
        "from-env",
        env={
            "DIRECTOR_JOBS_JOBS_ADD_TYPE": "self-check",
            "DIRECTOR_JOBS_JOBS_ADD_INTERVAL": "2h",
            "DIRECTOR_JOBS_JOBS_ADD_TIMEZONE": "Europe/Berlin",
            "DIRECTOR_JOBS_JOBS_ADD_CONFIRM": "1",
        },
    )
    assert added.exit_code == 0, added.output
    listed = invoke(sqlite_url, "jobs", "list", env={"DIRECTOR_JOBS_JOBS_LIST_JSON": "1"})
    [job] = json.loads(listed.stdout)
    assert (job["type"], job["interval"], job["timezone"]) == ("self-check", 7200, "Europe/Berlin")
    # --yes answers the confirmation a `confirm` job asks for; "no" on stdin would refuse.
    ran = invoke(
        sqlite_url, "jobs", "run", "from-env", input="no\n", env={"DIRECTOR_JOBS_JOBS_RUN_YES": "1"}
    )
    assert ran.exit_code == 0, ran.output
    upcoming = invoke(
        sqlite_url, "jobs", "next", "from-env", env={"DIRECTOR_JOBS_JOBS_NEXT_COUNT": "2"}
    )
    assert len(upcoming.stdout.splitlines()) == 2
    runs = invoke(
        sqlite_url,
        "jobs",
        "history",
        env={"DIRECTOR_JOBS_JOBS_HISTORY_OUTPUT": "1", "DIRECTOR_JOBS_JOBS_HISTORY_JSON": "1"},
    )
    assert "Test output in INFO level" in json.loads(runs.stdout)[0]["output"]


def test_list_and_show_mask_secret_parameters_and_export_keeps_them(sqlite_url: str) -> None:
    api = {
        "target": "icinga2-api",
        "url": "https://icinga.example.com:5665",
        "user": "director",
        "password": "Hunter2Api",
    }
    command = {"command": "psql -c 'select 1'", "env": {"PGPASSWORD": "Hunter2Pg", "PGUSER": "x"}}
    for name, kind, parameters in (("deploy", "config-deploy", api), ("q", "command", command)):
        added = invoke(
            sqlite_url, "jobs", "add", name, "--type", kind, "--parameters", json.dumps(parameters)
        )
        assert added.exit_code == 0, added.output
    shown = [
        invoke(sqlite_url, "jobs", "list", "--json").stdout,
        invoke(sqlite_url, "jobs", "show", "deploy").stdout,
        invoke(sqlite_url, "jobs", "show", "deploy", "--json").stdout,
        invoke(sqlite_url, "jobs", "show", "q", "--json").stdout,
    ]
    for text in shown:
        assert "Hunter2" not in text
    listed = {j["name"]: j for j in json.loads(shown[0])}
    assert listed["deploy"]["parameters"]["password"] == "***"
    assert listed["q"]["parameters"]["env"] == {"PGPASSWORD": "***", "PGUSER": "x"}
    assert json.loads(shown[2])["effective_parameters"]["password"] == "***"
    exported = invoke(sqlite_url, "export").stdout  # applied back: it must keep the values
    assert "Hunter2Api" in exported and "Hunter2Pg" in exported


def test_list_shows_the_next_start_the_time_period_allows(sqlite_url: str) -> None:
    """Due at noon, its period opens at 22:00: that is when it starts, and what list shows."""
    assert NOW.weekday() == 0 and NOW.hour == 12  # a Monday, 12:00 UTC
    ok(invoke(sqlite_url, "timeperiods", "add", "nights", "--range", "monday=22:00-24:00"))
    hourly = ("--type", "self-check", "--interval", "1h")
    ok(invoke_at(sqlite_url, NOW, "jobs", "add", "nightly", *hourly, "--timeperiod", "nights"))
    ok(invoke_at(sqlite_url, NOW, "jobs", "add", "plain", *hourly))

    listing = json.loads(invoke_at(sqlite_url, NOW, "jobs", "list", "--json").stdout)
    listed = {j["name"]: j for j in listing}
    table = invoke_at(sqlite_url, NOW, "jobs", "list").stdout

    assert listed["nightly"]["next_due"] == "2026-06-01T12:00:00Z"  # due, but the period is shut
    assert listed["nightly"]["next_start"] == "2026-06-01T22:00:00Z"
    assert listed["plain"]["next_start"] == listed["plain"]["next_due"]
    assert re.search(r"nightly .* nights +enabled +- +- +2026-06-01 22:00:00 UTC", table), table
    ok(invoke_at(sqlite_url, NOW, "jobs", "trigger", "nightly"))
    triggered = json.loads(invoke_at(sqlite_url, NOW, "jobs", "list", "--json").stdout)
    assert triggered[0]["next_start"] == "2026-06-01T12:00:00Z"  # a trigger ignores the period
