"""Bad input never corrupts anything: one line naming the field and the text, the right exit code,
and the stored jobs exactly as before."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import invoke, run_director

OK, FAILED, USAGE, CONFIG = 0, 1, 2, 78
NAME_RULE = "expected 1-64 characters of letters, digits, '.', '_', '-'"
DURATION_RULE = "expected a duration such as 90, 90s, 15m, 2h or 1d"
TZ_RULE = "expected an IANA time zone such as Europe/Berlin"
FIVE_FIELDS = "expected 5 fields (minute hour day month weekday)"
COMMAND_KEYS = "command, cwd, env, group, inherit_env, shell, success_exit_codes, user"
ADD = ("jobs", "add", "new", "--type")


@pytest.fixture(autouse=True)
def keep_root_logger() -> Iterator[None]:
    """`jobs execute` in-process installs a handler on CliRunner's stream; take it away again."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def jobs_json(url: str) -> list[dict[str, Any]]:
    result = invoke(url, "jobs", "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def seed(url: str) -> list[dict[str, Any]]:
    """One existing job that every bad command must leave alone; returns the stored state."""
    result = invoke(
        url,
        "jobs",
        "add",
        "keep",
        "--type",
        "command",
        "--parameters",
        '{"command": ["true"]}',
        "--cron",
        "0 3 * * *",
        "--timezone",
        "Europe/Berlin",
        "--tag",
        "t",
        "--retries",
        "1",
    )
    assert result.exit_code == 0, result.output
    return jobs_json(url)


def assert_one_line(result: Result, expected: str | re.Pattern[str]) -> None:
    """stderr is exactly one line: the expected text, or a line the pattern matches in full."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stderr.endswith("\n")
    if isinstance(expected, str):
        assert lines[0] == expected
    else:
        assert expected.fullmatch(lines[0]), lines[0]
    assert "Traceback" not in result.output


def err(text: str) -> str:
    return f"director: error: {text}"


# (arguments, exit code, the one stderr line) — every case runs against a database that
# already holds the job `keep`, on SQLite and PostgreSQL.
CASES = [
    # parameters
    pytest.param(
        [*ADD, "command", "--parameters", "{bad"],
        USAGE,
        err(
            "parameters: invalid value '<4 characters>': invalid JSON: Expecting property name "
            "enclosed in double quotes at line 1 column 2"
        ),
        id="parameters-invalid-json",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '{"command": "true"} x'],
        USAGE,
        err(
            "parameters: invalid value '<21 characters>': "
            "invalid JSON: Extra data at line 1 column 21"
        ),
        id="parameters-trailing-garbage",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '["true"]'],
        USAGE,
        err('parameters: invalid value \'["true"]\': expected a JSON object like {"key": "value"}'),
        id="parameters-array",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", "null"],
        USAGE,
        err('parameters: invalid value \'null\': expected a JSON object like {"key": "value"}'),
        id="parameters-null",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '{"command": "true", "comand": "x"}'],
        USAGE,
        err(
            f"parameters.comand: invalid value 'x': unknown parameter; command takes {COMMAND_KEYS}"
        ),
        id="parameters-unknown",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '{"command": "true", "shell": "yes"}'],
        USAGE,
        err("parameters.shell: invalid value 'yes': expected true or false"),
        id="parameters-mistyped-bool",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '{"command": 5}'],
        USAGE,
        err("parameters.command: invalid value 5: expected a string or a JSON list"),
        id="parameters-mistyped-command",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '{"command": "true", "env": {"A": 1}}'],
        USAGE,
        err("parameters.env.A: invalid value '***': expected string names and values"),
        id="parameters-env-value",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '{"command": "psql", "env": {"PGPASSWORD": "s3cret"},}'],
        USAGE,
        err(
            "parameters: invalid value '<53 characters>': invalid JSON: Expecting property name "
            "enclosed in double quotes at line 1 column 53"
        ),
        id="parameters-invalid-json-hides-secrets",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '{"command": "true", "cwd": "relative/dir"}'],
        USAGE,
        err("parameters.cwd: invalid value 'relative/dir': expected an absolute path"),
        id="parameters-relative-cwd",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '{"command": "echo \\"open"}'],
        USAGE,
        err("parameters.command: invalid value 'echo \"open': cannot split: No closing quotation"),
        id="parameters-unsplittable",
    ),
    pytest.param(
        [*ADD, "command"],
        USAGE,
        err("parameters.command: invalid value None: this parameter is required"),
        id="parameters-missing-required",
    ),
    pytest.param(
        [*ADD, "command", "--parameters", '{"shell": true}'],
        USAGE,
        err("parameters.command: invalid value None: this parameter is required"),
        id="parameters-missing-required-with-others",
    ),
    pytest.param(
        [*ADD, "self-check", "--parameters", '{"message": 3}'],
        USAGE,
        err("parameters.message: invalid value 3: expected a string"),
        id="parameters-self-check-mistyped",
    ),
    # type
    pytest.param(
        [*ADD, "no-such-type"],
        USAGE,
        re.compile(
            r"director: error: type: unknown job type 'no-such-type'; known types: "
            r"(?=.*\bcommand\b)(?=.*\bself-check\b)[a-z, -]+"
        ),
        id="type-unknown",
    ),
    # time zone
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 * * *", "--timezone", "Mars/Olympus"],
        USAGE,
        err(f"timezone: invalid value 'Mars/Olympus': {TZ_RULE}"),
        id="timezone-unknown",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 * * *", "--timezone", "../../etc/passwd"],
        USAGE,
        err(f"timezone: invalid value '../../etc/passwd': {TZ_RULE}"),
        id="timezone-path",
    ),
    # cron
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 * *"],
        USAGE,
        err(f"cron: invalid value '0 3 * *': {FIVE_FIELDS}, got 4"),
        id="cron-four-fields",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 * * * *"],
        USAGE,
        err(f"cron: invalid value '0 3 * * * *': {FIVE_FIELDS}, got 6"),
        id="cron-six-fields",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "@reboot"],
        USAGE,
        err(f"cron: invalid value '@reboot': {FIVE_FIELDS}, got 1"),
        id="cron-unknown-alias",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "61 3 * * *"],
        USAGE,
        re.compile(re.escape(err("cron: invalid value '61 3 * * *': ")) + r".*\b61\b.*"),
        id="cron-minute-out-of-range",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 24 * * *"],
        USAGE,
        re.compile(re.escape(err("cron: invalid value '0 24 * * *': ")) + r".*\b24\b.*"),
        id="cron-hour-out-of-range",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 0 * *"],
        USAGE,
        re.compile(re.escape(err("cron: invalid value '0 3 0 * *': ")) + r".*\b0\b.*"),
        id="cron-day-zero",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 * 13 *"],
        USAGE,
        re.compile(re.escape(err("cron: invalid value '0 3 * 13 *': ")) + r".*\b13\b.*"),
        id="cron-month-out-of-range",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 * * 8"],
        USAGE,
        err("cron: invalid value '0 3 * * 8': unknown weekday '8': expected 0-7 or sun-sat"),
        id="cron-weekday-out-of-range",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 * * funday"],
        USAGE,
        err(
            "cron: invalid value '0 3 * * funday': unknown weekday 'funday': "
            "expected 0-7 or sun-sat"
        ),
        id="cron-bad-weekday-name",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 * * fri-mon"],
        USAGE,
        err("cron: invalid value '0 3 * * fri-mon': weekday range 'fri-mon' runs backwards"),
        id="cron-backwards-weekdays",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "*/0 * * * *"],
        USAGE,
        re.compile(re.escape(err("cron: invalid value '*/0 * * * *': ")) + r".+"),
        id="cron-zero-step",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 3 * * 1/0"],
        USAGE,
        re.compile(re.escape(err("cron: invalid value '0 3 * * 1/0': ")) + r".+"),
        id="cron-zero-step-in-weekday",
    ),
    # interval
    pytest.param(
        [*ADD, "self-check", "--interval", "0"],
        USAGE,
        err("interval: invalid value '0': expected a duration greater than zero"),
        id="interval-zero",
    ),
    pytest.param(
        [*ADD, "self-check", "--interval", "0m"],
        USAGE,
        err("interval: invalid value '0m': expected a duration greater than zero"),
        id="interval-zero-unit",
    ),
    pytest.param(
        [*ADD, "self-check", "--interval", "-5"],
        USAGE,
        err(f"interval: invalid value '-5': {DURATION_RULE}"),
        id="interval-negative",
    ),
    pytest.param(
        [*ADD, "self-check", "--interval", "abc"],
        USAGE,
        err(f"interval: invalid value 'abc': {DURATION_RULE}"),
        id="interval-text",
    ),
    pytest.param(
        [*ADD, "self-check", "--interval", "15x"],
        USAGE,
        err(f"interval: invalid value '15x': {DURATION_RULE}"),
        id="interval-unknown-unit",
    ),
    pytest.param(
        [*ADD, "self-check", "--interval", ""],
        USAGE,
        err(f"interval: invalid value '': {DURATION_RULE}"),
        id="interval-empty",
    ),
    pytest.param(
        [*ADD, "self-check", "--interval", "99999999999w"],
        USAGE,
        re.compile(re.escape(err("interval: invalid value '99999999999w': ")) + r".+"),
        id="interval-absurdly-long",
    ),
    pytest.param(
        [*ADD, "self-check", "--interval", "5m", "--cron", "@daily"],
        USAGE,
        err("cron: invalid value '@daily': give either --interval or --cron, not both"),
        id="interval-and-cron",
    ),
    # names
    pytest.param(
        ["jobs", "add", "", "--type", "self-check"],
        USAGE,
        err(f"name: invalid value '': {NAME_RULE}"),
        id="name-empty",
    ),
    pytest.param(
        ["jobs", "add", "a" * 65, "--type", "self-check"],
        USAGE,
        err(f"name: invalid value '{'a' * 65}': {NAME_RULE}"),
        id="name-65-chars",
    ),
    pytest.param(
        ["jobs", "add", "two words", "--type", "self-check"],
        USAGE,
        err(f"name: invalid value 'two words': {NAME_RULE}"),
        id="name-space",
    ),
    pytest.param(
        ["jobs", "add", "a/b", "--type", "self-check"],
        USAGE,
        err(f"name: invalid value 'a/b': {NAME_RULE}"),
        id="name-slash",
    ),
    pytest.param(
        ["jobs", "add", "..", "--type", "self-check"],
        USAGE,
        err("name: invalid value '..': '.' and '..' are not names"),
        id="name-dot-dot",
    ),
    pytest.param(
        ["jobs", "add", "jöb", "--type", "self-check"],
        USAGE,
        err(f"name: invalid value 'jöb': {NAME_RULE}"),
        id="name-unicode",
    ),
    pytest.param(
        ["jobs", "add", "execute:command", "--type", "self-check"],
        USAGE,
        err(f"name: invalid value 'execute:command': {NAME_RULE}"),
        id="name-colon",
    ),
    pytest.param(
        ["jobs", "add", "keep", "--type", "self-check"],
        USAGE,
        err("name: a job named 'keep' exists already"),
        id="name-duplicate",
    ),
    pytest.param(
        [*ADD, "self-check", "--tag", "has space"],
        USAGE,
        err(f"tags: invalid value 'has space': {NAME_RULE}"),
        id="tag-invalid",
    ),
    pytest.param(
        [*ADD, "self-check", "--timeperiod", "no-such-period"],
        USAGE,
        err("timeperiod: invalid value 'no-such-period': no time period of that name"),
        id="timeperiod-unknown",
    ),
    # limits
    pytest.param(
        [*ADD, "self-check", "--retries", "-1"],
        USAGE,
        err("retries: invalid value -1: expected a whole number 0-1000"),
        id="retries-negative",
    ),
    pytest.param(
        [*ADD, "self-check", "--retries", "100000000000000000000"],
        USAGE,
        re.compile(re.escape(err("retries: invalid value 100000000000000000000: ")) + r".+"),
        id="retries-huge",
    ),
    pytest.param(
        [*ADD, "self-check", "--timeout", "0"],
        USAGE,
        err("timeout: invalid value '0': expected a duration greater than zero"),
        id="timeout-zero",
    ),
    pytest.param(
        [*ADD, "self-check", "--timeout", "soon"],
        USAGE,
        err(f"timeout: invalid value 'soon': {DURATION_RULE}"),
        id="timeout-text",
    ),
    pytest.param(
        [*ADD, "self-check", "--retry-delay", "-1s"],
        USAGE,
        err(f"retry-delay: invalid value '-1s': {DURATION_RULE}"),
        id="retry-delay-negative",
    ),
    # `jobs set` on the existing job: same checks, nothing written
    pytest.param(
        ["jobs", "set", "keep", "--cron", "0 3 * *"],
        USAGE,
        err(f"cron: invalid value '0 3 * *': {FIVE_FIELDS}, got 4"),
        id="set-cron",
    ),
    pytest.param(
        ["jobs", "set", "keep", "--parameters", '{"command": "true", "shell": 1}'],
        USAGE,
        err("parameters.shell: invalid value 1: expected true or false"),
        id="set-parameters",
    ),
    pytest.param(
        ["jobs", "set", "keep", "--type", "self-check"],
        USAGE,
        err(
            "parameters.command: invalid value ['true']: "
            "unknown parameter; self-check takes levels, message"
        ),
        id="set-type-with-foreign-parameters",
    ),
    pytest.param(
        ["jobs", "set", "keep", "--timezone", "Nowhere/Town"],
        USAGE,
        err(f"timezone: invalid value 'Nowhere/Town': {TZ_RULE}"),
        id="set-timezone",
    ),
    pytest.param(
        ["jobs", "set", "keep", "--interval", "0"],
        USAGE,
        err("interval: invalid value '0': expected a duration greater than zero"),
        id="set-interval",
    ),
    pytest.param(
        ["jobs", "set", "keep", "--retries", "-3"],
        USAGE,
        err("retries: invalid value -3: expected a whole number 0-1000"),
        id="set-retries",
    ),
    pytest.param(
        ["jobs", "set", "missing", "--interval", "5m"],
        USAGE,
        err("job: no job named 'missing'"),
        id="set-unknown-job",
    ),
    pytest.param(
        ["jobs", "execute", "command", "--parameters", "[]"],
        USAGE,
        err('parameters: invalid value \'[]\': expected a JSON object like {"key": "value"}'),
        id="execute-parameters-array",
    ),
    pytest.param(
        ["jobs", "execute", "self-check", "--timeout", "0"],
        USAGE,
        err("timeout: invalid value '0': expected a duration greater than zero"),
        id="execute-timeout-zero",
    ),
    pytest.param(
        ["jobs", "execute", "nope"],
        USAGE,
        re.compile(r"director: error: type: unknown job type 'nope'; known types: .*\bcommand\b.*"),
        id="execute-unknown-type",
    ),
    # numbers JSON does not have, and numbers too large to mean anything
    pytest.param(
        [*ADD, "housekeeping", "--parameters", '{"keep_runs_days": NaN}'],
        USAGE,
        err(
            "parameters.keep_runs_days: invalid value nan: "
            "expected a whole number or a finite number"
        ),
        id="housekeeping-nan",
    ),
    pytest.param(
        [*ADD, "housekeeping", "--parameters", '{"keep_runs_days": Infinity}'],
        USAGE,
        err(
            "parameters.keep_runs_days: invalid value inf: "
            "expected a whole number or a finite number"
        ),
        id="housekeeping-infinity",
    ),
    pytest.param(
        [*ADD, "housekeeping", "--parameters", '{"keep_runs_days": 1e10}'],
        USAGE,
        err(
            "parameters.keep_runs_days: invalid value 10000000000.0: expected days > 0 and <= 36500"
        ),
        id="housekeeping-huge",
    ),
    pytest.param(
        [*ADD, "config-deploy", "--parameters", '{"path": "/srv/x", "grace_period": NaN}'],
        USAGE,
        err("parameters.grace_period: invalid value nan: expected a finite number"),
        id="config-deploy-nan-grace",
    ),
    # text no database stores, numbers and nesting Python cannot read back
    pytest.param(
        [*ADD, "self-check", "--parameters", '{"message": "\\ud800"}'],
        USAGE,
        err(
            "parameters.message: invalid value '\\ud800': contains a NUL character or a lone "
            "surrogate (invalid Unicode)"
        ),
        id="parameters-lone-surrogate",
    ),
    pytest.param(
        [*ADD, "self-check", "--parameters", '{"message": "a\\u0000b"}'],
        USAGE,
        err(
            "parameters.message: invalid value 'a\\x00b': contains a NUL character or a lone "
            "surrogate (invalid Unicode)"
        ),
        id="parameters-nul",
    ),
    pytest.param(
        [*ADD, "self-check", "--description", "a\udcffb"],
        USAGE,
        err(
            "description: invalid value 'a\\udcffb': contains a NUL character or a lone "
            "surrogate (invalid Unicode)"
        ),
        id="description-lone-surrogate",
    ),
    pytest.param(
        [*ADD, "self-check", "--parameters", '{"message": ' + "1" * 5000 + "}"],
        USAGE,
        err(
            "parameters: invalid value '<5013 characters>': cannot be read: Exceeds the limit "
            "(4300 digits) for integer string conversion: value has 5000 digits"
        ),
        id="parameters-5000-digits",
    ),
    pytest.param(
        [*ADD, "self-check", "--parameters", '{"message": ' + "[" * 5000 + "]" * 5000 + "}"],
        USAGE,
        err("parameters: invalid value '<10013 characters>': nested deeper than 32 levels"),
        id="parameters-5000-nested-lists",
    ),
    pytest.param(
        [*ADD, "self-check", "--parameters", '{"message": ' + "[" * 40 + "]" * 40 + "}"],
        USAGE,
        err("parameters: invalid value '…': nested deeper than 32 levels"),
        id="parameters-40-nested-lists",
    ),
    # numbers and schedules that parse but make no sense
    pytest.param(
        [*ADD, "self-check", "--memory-limit", "nan"],
        USAGE,
        err("memory_limit: invalid value nan: expected a finite number of MiB above zero"),
        id="memory-limit-nan",
    ),
    pytest.param(
        [*ADD, "self-check", "--memory-limit", "inf"],
        USAGE,
        err("memory_limit: invalid value inf: expected a finite number of MiB above zero"),
        id="memory-limit-inf",
    ),
    pytest.param(
        ["jobs", "run", "--forever", "--max-memory-growth", "nan"],
        USAGE,
        err("max-memory-growth: invalid value nan: expected MiB >= 0 (0 = off)"),
        id="max-memory-growth-nan",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "0 0 31 2 *"],
        USAGE,
        err("cron: invalid value '0 0 31 2 *': never fires (no such date)"),
        id="cron-never-fires",
    ),
    pytest.param(
        [*ADD, "self-check", "--cron", "\u0665 * * * *"],
        USAGE,
        err("cron: invalid value '\u0665 * * * *': expected ASCII digits, names and * , - /"),
        id="cron-arabic-indic-digit",
    ),
    pytest.param(
        [*ADD, "self-check", "--interval", "\uff11\uff15m"],
        USAGE,
        err(f"interval: invalid value '\uff11\uff15m': {DURATION_RULE}"),
        id="interval-full-width-digits",
    ),
    pytest.param(
        [*ADD, "self-check", "--interval", "1ms"],
        USAGE,
        err("interval: invalid value 0.001: expected at least 1 s"),
        id="interval-below-a-second",
    ),
    # what the parameters name must exist
    pytest.param(
        [*ADD, "import", "--parameters", '{"source": "nope"}'],
        USAGE,
        err(
            "parameters.source: invalid value 'nope': no import source of that name; define it "
            "first ([imports.NAME] in a file for `director apply`)"
        ),
        id="import-unknown-source",
    ),
    pytest.param(
        [*ADD, "sync", "--parameters", '{"rule": "nope"}'],
        USAGE,
        err(
            "parameters.rule: invalid value 'nope': no sync rule of that name; define it "
            "first ([sync_rules.NAME] in a file for `director apply`)"
        ),
        id="sync-unknown-rule",
    ),
    # click's own checks come out as one line too
    pytest.param(
        ["jobs", "history", "--limit", "abc"],
        USAGE,
        err(
            "Invalid value for '--limit' (env var: 'DIRECTOR_JOBS_JOBS_HISTORY_LIMIT'): "
            "'abc' is not a valid integer range "
            "(see 'director jobs history --help')"
        ),
        id="click-bad-integer",
    ),
    pytest.param(
        ["jobs", "add"],
        USAGE,
        err("Missing argument 'NAME' (see 'director jobs add --help')"),
        id="click-missing-argument",
    ),
    pytest.param(
        ["jobs", "frobnicate"],
        USAGE,
        err("No such command 'frobnicate' (see 'director jobs --help')"),
        id="click-unknown-command",
    ),
    pytest.param(
        ["deployments", "show", "99999999999999999999999"],
        USAGE,
        re.compile(
            r"director: error: Invalid value for 'ID': 99999999999999999999999 is not in .*"
        ),
        id="deployment-id-too-large",
    ),
]


@pytest.mark.parametrize(("args", "code", "expected"), CASES)
def test_bad_input_is_rejected_and_changes_nothing(
    db_url: str, args: list[str], code: int, expected: str | re.Pattern[str]
) -> None:
    before = seed(db_url)
    runs_before = invoke(db_url, "jobs", "history", "--json").stdout

    result = invoke(db_url, *args)

    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert_one_line(result, expected)
    assert jobs_json(db_url) == before
    assert invoke(db_url, "jobs", "history", "--json").stdout == runs_before


def test_a_valid_but_very_long_cron_is_stored_or_refused_cleanly(db_url: str) -> None:
    before = seed(db_url)
    cron = " ".join(
        [
            ",".join(map(str, range(60))),
            ",".join(map(str, range(24))),
            ",".join(map(str, range(1, 32))),
            "*",
            "*",
        ]
    )
    assert len(cron) > 255

    result = invoke(db_url, "jobs", "add", "long", "--type", "self-check", "--cron", cron)

    assert "Traceback" not in result.output
    if result.exit_code == OK:
        assert [j["cron"] for j in jobs_json(db_url) if j["name"] == "long"] == [cron]
    else:
        assert result.exit_code == USAGE
        assert_one_line(
            result, re.compile(re.escape(err(f"cron: invalid value '{cron}': ")) + ".+")
        )
        assert jobs_json(db_url) == before


def test_huge_interval_is_refused_and_the_longest_accepted_one_runs(sqlite_url: str) -> None:
    """Over 10 years is refused; 10 years itself must not crash `jobs next` or the runner."""
    refused = invoke(
        sqlite_url, "jobs", "add", "huge", "--type", "self-check", "--interval", "99999999999w"
    )
    assert refused.exit_code == USAGE
    assert refused.stderr.strip() == (
        "director: error: interval: invalid value '99999999999w': "
        "expected a duration of at most 10 years"
    )
    longest = f"{10 * 366}d"
    for name, interval in (("longest", longest), ("fine", "1h")):
        added = invoke(
            sqlite_url, "jobs", "add", name, "--type", "self-check", "--interval", interval
        )
        assert added.exit_code == 0, added.output

    upcoming = run_director(sqlite_url, "jobs", "next", "longest", "-n", "2")
    first = run_director(sqlite_url, "jobs", "run")
    second = run_director(sqlite_url, "jobs", "run", "fine")

    assert "Traceback" not in upcoming.stderr + first.stderr + second.stderr
    assert upcoming.returncode == 0 and len(upcoming.stdout.splitlines()) == 2, upcoming
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    states = {j["name"]: j["running_on"] for j in jobs_json(sqlite_url)}
    assert states == {"fine": None, "longest": None}


# -- database URLs -------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


URL_CASES = [
    pytest.param(
        "not a url",
        CONFIG,
        err(
            "database_url: cannot parse 'not a url'…: expected e.g. sqlite:////var/lib/x.db "
            "or postgresql+psycopg://user@host/db"
        ),
        id="no-scheme",
    ),
    pytest.param(
        "://u:s3cret@host/db",
        CONFIG,
        err(
            "database_url: cannot parse ''…: expected e.g. sqlite:////var/lib/x.db "
            "or postgresql+psycopg://user@host/db"
        ),
        id="empty-scheme",
    ),
    pytest.param(
        "u:s3cret@host/db",
        CONFIG,
        err(
            "database_url: cannot parse 'u'…: expected e.g. sqlite:////var/lib/x.db "
            "or postgresql+psycopg://user@host/db"
        ),
        id="missing-scheme",
    ),
    pytest.param(
        "postgresql://u:s3cret@host:notaport/db",
        CONFIG,
        re.compile(r"director: error: database_url: cannot parse .*"),
        id="non-numeric-port",
    ),
    pytest.param(
        "postgresql://u:s3cret@host:5432:5432/db",
        CONFIG,
        re.compile(r"director: error: database_url: cannot parse .*"),
        id="double-port",
    ),
    pytest.param(
        "postgresql://u:s3cret@/x",
        FAILED,
        re.compile(
            re.escape(err("database_url: cannot connect to 'postgresql://u:***@/x': ")) + ".+"
        ),
        id="no-host-default-socket",
    ),
    pytest.param(
        "postgresql://u:s3cret@127.0.0.1:99999/db",
        CONFIG,
        err(
            "database_url: port 99999 in 'postgresql://u:***@127.0.0.1:99999/db' is not a TCP "
            "port (expected 1-65535)"
        ),
        id="port-out-of-range",
    ),
    pytest.param(
        "oracle://u:s3cret@host/db",
        CONFIG,
        err(
            "database_url: unsupported database 'oracle' in 'oracle://u:***@host/db': "
            "expected one of sqlite, postgresql, mysql, mariadb"
        ),
        id="unsupported-scheme",
    ),
    pytest.param(
        "postgresql+nodriver://u:s3cret@host/db",
        CONFIG,
        re.compile(
            re.escape(err("database_url: cannot use 'postgresql+nodriver://u:***@host/db': "))
            + ".+"
        ),
        id="unknown-driver",
    ),
]


@pytest.mark.parametrize(("url", "code", "expected"), URL_CASES)
def test_bad_database_url(url: str, code: int, expected: str | re.Pattern[str]) -> None:
    result = invoke(url, "jobs", "list")

    assert result.exit_code == code, result.output
    assert_one_line(result, expected)
    assert "s3cret" not in result.output


def test_sqlite_url_in_a_missing_folder(tmp_path: Path) -> None:
    folder = tmp_path / "missing" / "dir"
    result = invoke(f"sqlite:///{folder}/jobs.db", "jobs", "list")

    assert result.exit_code == CONFIG
    assert_one_line(
        result,
        err(f"database_url: folder '{folder}' of 'sqlite:///{folder}/jobs.db' does not exist"),
    )
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    "command", [("jobs", "list"), ("jobs", "run"), ("jobs", "run", "--trace"), ("export",)]
)
def test_unreachable_postgresql(command: tuple[str, ...]) -> None:
    port = closed_port()
    url = f"postgresql://director:s3cret@127.0.0.1:{port}/jobs"

    result = run_director(url, *command, timeout=60)

    assert result.returncode == FAILED, result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith(
        "director: error: database_url: cannot connect to "
        f"'postgresql://director:***@127.0.0.1:{port}/jobs': "
    )
    if "--trace" not in command:
        assert len(result.stderr.splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(
            "postgresql://director@127.0.0.1:{port}/jobs?password=s3cret", id="password-in-query"
        ),
        pytest.param(
            "postgresql://director:pa@s3cret@127.0.0.1:{port}/jobs", id="unescaped-at-in-password"
        ),
    ],
)
def test_unreachable_postgresql_other_password_spellings(url: str) -> None:
    result = invoke(url.format(port=closed_port()), "jobs", "list")

    # A '@' in the host part is refused as a configuration error; either way no secret leaks.
    assert result.exit_code in (FAILED, CONFIG)
    assert "s3cret" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


# -- configuration files ----------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


CONFIG_CASES = [
    pytest.param(
        lambda d: d / "missing.toml",
        lambda p: err(f"config: cannot read '{p}': no such file"),
        id="missing",
    ),
    pytest.param(
        lambda d: write(d / "bad.toml", "this is = not toml [\n"),
        lambda p: re.compile(re.escape(err(f"config: '{p}' is not valid TOML: ")) + r".*line 1.*"),
        id="not-toml",
    ),
    pytest.param(
        lambda d: write(d / "unknown.toml", 'timezone = "UTC"\ndatabse_url = "sqlite://"\n'),
        lambda p: re.compile(
            re.escape(err(f"config: unknown key 'databse_url' in '{p}'; known keys: "))
            + r"(?=.*database_url).*"
        ),
        id="unknown-key",
    ),
    pytest.param(
        lambda d: write(d / "tz.toml", 'timezone = "Mars/Olympus"\n'),
        lambda p: err(
            "config timezone: invalid value 'Mars/Olympus': expected an IANA time zone "
            "such as Europe/Berlin"
        ),
        id="bad-timezone",
    ),
    pytest.param(
        lambda d: write(d / "type.toml", "timezone = 1\n"),
        lambda p: err(f"config: key 'timezone' in '{p}' must be a string"),
        id="timezone-not-a-string",
    ),
    pytest.param(
        lambda d: write(d / "level.toml", 'log_level = "loud"\n'),
        lambda p: err(
            f"config: log_level 'loud' in '{p}': expected trace, debug, info, warning or error"
        ),
        id="bad-log-level",
    ),
    pytest.param(
        lambda d: d,
        lambda p: err(f"config: cannot read '{p}': it is a directory"),
        id="directory",
    ),
    pytest.param(
        lambda d: write_bytes(d / "binary.toml", bytes(range(256))),
        lambda p: err(f"config: '{p}' is not UTF-8 text (byte 128: invalid start byte)"),
        id="binary",
    ),
    pytest.param(
        lambda d: write_bytes(d / "utf16.toml", 'timezone = "UTC"\n'.encode("utf-16")),
        lambda p: err(f"config: '{p}' is not UTF-8 text (byte 0: invalid start byte)"),
        id="utf-16",
    ),
]


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("make", "message"), CONFIG_CASES)
@pytest.mark.parametrize("how", ["flag", "env"])
def test_bad_config_file(db_url: str, tmp_path: Path, make: Any, message: Any, how: str) -> None:
    before = seed(db_url)
    folder = tmp_path / "conf"
    folder.mkdir()
    path = make(folder)

    if how == "flag":
        result = invoke(db_url, "--config", str(path), "jobs", "add", "new", "--type", "self-check")
    else:
        result = invoke(
            db_url,
            "jobs",
            "add",
            "new",
            "--type",
            "self-check",
            env={"DIRECTOR_JOBS_CONFIG": str(path)},
        )

    assert result.exit_code == CONFIG, result.output
    assert result.stdout == ""
    assert_one_line(result, message(path))
    assert jobs_json(db_url) == before


def test_bad_default_timezone_from_flag_and_environment(db_url: str) -> None:
    before = seed(db_url)
    expected = err(f"config timezone: invalid value 'Mars/Olympus': {TZ_RULE}")

    by_flag = invoke(
        db_url, "--timezone", "Mars/Olympus", "jobs", "add", "new", "--type", "self-check"
    )
    by_env = invoke(
        db_url,
        "jobs",
        "add",
        "new",
        "--type",
        "self-check",
        env={"DIRECTOR_JOBS_TIMEZONE": "Mars/Olympus"},
    )

    for result in (by_flag, by_env):
        assert result.exit_code == CONFIG
        assert_one_line(result, expected)
    assert jobs_json(db_url) == before


def test_config_error_as_a_real_process(sqlite_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "nonsense = true\n")

    result = run_director(sqlite_url, "--config", str(path), "jobs", "run")

    assert result.returncode == CONFIG
    assert result.stderr.splitlines() == [
        err(
            f"config: unknown key 'nonsense' in '{path}'; "
            "known keys: database_url, timezone, log_level, containment, "
            "webhook, mail, icinga, notify, web"
        )
    ]
