"""Runs by tag (OpenSVC's `run --tags`): `jobs run --tag`, `jobs trigger --tag` and
`jobs list --tag`, as real child processes on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from conftest import invoke, run_director


def define(url: str) -> None:
    """Jobs defined in an order that is not their names' order, one of them disabled."""
    for name, tags in (("zeta", ["backup"]), ("alpha", ["other"]), ("mid", ["backup", "nightly"]),
                       ("asker", ["backup"]), ("off", ["backup"]), ("plain", [])):  # fmt: skip
        options = [item for tag in tags for item in ("--tag", tag)]
        if name == "asker":
            options.append("--confirm")
        added = invoke(url, "jobs", "add", name, "--type", "self-check", *options)
        assert added.exit_code == 0, added.output
    assert invoke(url, "jobs", "disable", "off").exit_code == 0


def history(url: str) -> list[dict[str, Any]]:
    """Every run, oldest first."""
    result = run_director(url, "jobs", "history", "--json", "--limit", "100")
    assert result.returncode == 0, result.stderr
    return list(reversed(json.loads(result.stdout)))


def test_run_by_tag_runs_the_enabled_tagged_jobs_in_definition_order(db_url: str) -> None:
    define(db_url)
    ran = run_director(db_url, "jobs", "run", "--tag", "backup", "--yes")
    assert ran.returncode == 0, ran.stderr
    runs = history(db_url)
    assert [r["job"] for r in runs] == ["zeta", "mid", "asker"]  # not `off`, not by name
    assert {r["trigger"] for r in runs} == {"manual"} and {r["status"] for r in runs} == {"success"}


def test_run_by_tag_asks_before_a_job_that_wants_confirmation(db_url: str) -> None:
    define(db_url)
    refused = run_director(db_url, "jobs", "run", "--tag", "nightly", "--tag", "backup",
                           input="no\n")  # fmt: skip
    assert refused.returncode == 1
    assert "director: not running asker" in refused.stderr
    assert history(db_url) == []  # asked before anything ran


def test_an_unknown_tag_is_refused_naming_the_known_ones(db_url: str) -> None:
    define(db_url)
    for command in (["run"], ["trigger"], ["list"]):
        result = run_director(db_url, "jobs", *command, "--tag", "bakup")
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.strip().splitlines() == [
            "director: error: tag: invalid value 'bakup': no job has this tag; "
            "the known tags: backup, nightly, other"
        ], command
    # Nothing was queued either: the jobs have no schedule, so only a trigger makes one due.
    assert run_director(db_url, "jobs", "run").returncode == 0
    assert history(db_url) == []


def test_a_tag_only_disabled_jobs_carry_runs_nothing_and_says_so(db_url: str) -> None:
    define(db_url)
    assert invoke(db_url, "jobs", "set", "off", "--tag", "rare").exit_code == 0
    result = run_director(db_url, "jobs", "run", "--tag", "rare")
    assert result.returncode == 0, result.stderr
    assert "director: no enabled job has the tag rare" in result.stderr
    assert history(db_url) == []


def test_trigger_by_tag_queues_each_tagged_job(db_url: str) -> None:
    define(db_url)
    result = run_director(db_url, "jobs", "trigger", "--tag", "nightly", "--tag", "other")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "queued run 1 of alpha"
    assert lines[1].startswith("queued run 2 of mid; no runner runs --forever")
    assert lines[1].endswith("to run them now: director jobs run --tag nightly --tag other")
    ran = run_director(db_url, "jobs", "run")  # the one-shot run starts what was queued
    assert ran.returncode == 0, ran.stderr
    manual = [r["job"] for r in history(db_url) if r["trigger"] == "manual"]
    assert sorted(manual) == ["alpha", "mid"]


def test_list_by_tag_shows_only_the_tagged_jobs_disabled_ones_too(db_url: str) -> None:
    define(db_url)
    result = run_director(db_url, "jobs", "list", "--tag", "backup", "--json")
    assert result.returncode == 0, result.stderr
    assert [job["name"] for job in json.loads(result.stdout)] == ["asker", "mid", "off", "zeta"]


def test_tag_with_names_or_forever_is_a_usage_error(sqlite_url: str) -> None:
    define(sqlite_url)
    for args in (["run", "zeta", "--tag", "backup"], ["run", "--forever", "--tag", "backup"],
                 ["trigger", "zeta", "--tag", "backup"], ["trigger"]):  # fmt: skip
        result = run_director(sqlite_url, "jobs", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "--tag" in result.stderr, args
    assert history(sqlite_url) == []


def test_trigger_by_tag_queues_nothing_when_the_parameters_fit_one_job_only(
    sqlite_url: str,
) -> None:
    for name, kind, parameters in (("copy", "command", {"command": "true"}),
                                   ("check", "self-check", {})):  # fmt: skip
        added = invoke(sqlite_url, "jobs", "add", name, "--type", kind, "--tag", "mixed",
                       "--parameters", json.dumps(parameters))  # fmt: skip
        assert added.exit_code == 0, added.output
    result = run_director(sqlite_url, "jobs", "trigger", "--tag", "mixed",
                          "--parameters", '{"command": "false"}')  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "parameters.command" in result.stderr and result.stdout == ""
    assert run_director(sqlite_url, "jobs", "run").returncode == 0
    assert history(sqlite_url) == []  # `copy`, defined first, was not queued either
