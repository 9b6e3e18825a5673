"""`director apply FILE` and `director export` on SQLite and PostgreSQL: declarative definitions
that are idempotent, all-or-nothing, and survive an export → apply round trip unchanged."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import Result
from conftest import invoke

from director_jobs.job_types import registry
from director_jobs.job_types.base import JobContext, JobResult, JobType, Parameter

TIMESTAMPS = ("created_at", "updated_at", "next_due", "last_attempt", "running_on")
JOB_KEYS = (
    "type, description, parameters, interval, cron, timezone, timeperiod, disabled, timeout, "
    "retries, retry_delay, tags, confirm"  # (newer keys may follow)
)


class AnyJsonJob(JobType):
    """A test job type whose one parameter takes any JSON value (for deep round trips)."""

    name: ClassVar[str] = "any-json"
    description: ClassVar[str] = "Accepts any JSON data; does nothing."
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("data", (dict, list, str, int, float, bool), "Anything.", default=None),
    )

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        return JobResult()


@pytest.fixture(autouse=True)
def any_json_type(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `any-json` a type of every Registry the CLI creates in this process."""
    monkeypatch.setitem(registry.BUILTIN_TYPES, "any-json", f"{__name__}:AnyJsonJob")


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def jobs_json(url: str) -> list[dict[str, Any]]:
    return json.loads(ok(invoke(url, "jobs", "list", "--json")).stdout)


def definitions(url: str) -> list[dict[str, Any]]:
    """`jobs list --json` without the timestamps and runner state."""
    return [{k: v for k, v in job.items() if k not in TIMESTAMPS} for job in jobs_json(url)]


def periods_json(url: str) -> list[dict[str, Any]]:
    listed = json.loads(ok(invoke(url, "timeperiods", "list", "--json")).stdout)
    return [{k: v for k, v in p.items() if k != "active"} for p in listed]


def toml(tmp_path: Path, text: str, name: str = "jobs.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def apply(url: str, path: Path, *flags: str) -> Result:
    return invoke(url, "apply", str(path), *flags)


def one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


BASE = """\
    [jobs.import-cmdb]
    type = "command"
    description = "Import hosts from the CMDB"
    parameters = { command = ["/usr/bin/env", "true"], env = { SOURCE = "cmdb" } }
    cron = "15 3 * * *"
    timezone = "Europe/Berlin"
    retries = 2
    retry_delay = "5m"
    timeout = "10m"
    tags = ["cmdb", "nightly"]

    [jobs.selfcheck]
    type = "self-check"
    interval = "15m"
    confirm = true
    disabled = true
"""


# -- apply ------------------------------------------------------------------------------------


EXPECTED_IMPORT = (
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
)


def test_apply_creates_the_jobs(db_url: str, tmp_path: Path) -> None:
    result = ok(apply(db_url, toml(tmp_path, BASE)))

    assert result.stdout.splitlines() == [
        "created: import-cmdb",
        "created: selfcheck",
        "2 created, 0 updated, 0 unchanged, 0 deleted",
    ]
    imported, selfcheck = definitions(db_url)
    assert {k: imported[k] for k in EXPECTED_IMPORT} == {
        "name": "import-cmdb",
        "type": "command",
        "description": "Import hosts from the CMDB",
        "parameters": {"command": ["/usr/bin/env", "true"], "env": {"SOURCE": "cmdb"}},
        "interval": None,
        "cron": "15 3 * * *",
        "timezone": "Europe/Berlin",
        "timeperiod": None,
        "disabled": False,
        "timeout": 600.0,
        "retries": 2,
        "retry_delay": 300.0,
        "tags": ["cmdb", "nightly"],
        "confirm": False,
    }
    assert (
        selfcheck["interval"],
        selfcheck["confirm"],
        selfcheck["disabled"],
        selfcheck["parameters"],
    ) == (900.0, True, True, {})
    assert (selfcheck["timeout"], selfcheck["retries"], selfcheck["retry_delay"]) == (
        3600.0,
        0,
        60.0,
    )


def test_reapply_is_idempotent(db_url: str, tmp_path: Path) -> None:
    path = toml(tmp_path, BASE)
    ok(apply(db_url, path))
    before = jobs_json(db_url)

    again = ok(apply(db_url, path))
    as_json = json.loads(ok(apply(db_url, path, "--json")).stdout)

    assert again.stdout == "0 created, 0 updated, 2 unchanged, 0 deleted\n"
    assert as_json["created"] == as_json["updated"] == as_json["deleted"] == []
    assert as_json["unchanged"] == ["import-cmdb", "selfcheck"]
    assert as_json["dry_run"] is False
    assert jobs_json(db_url) == before  # updated_at and next_due included


def test_a_changed_field_updates_only_that_job(db_url: str, tmp_path: Path) -> None:
    ok(apply(db_url, toml(tmp_path, BASE)))
    before = {j["name"]: j for j in jobs_json(db_url)}

    changed = BASE.replace('cron = "15 3 * * *"', 'cron = "45 4 * * *"').replace(
        'SOURCE = "cmdb"', 'SOURCE = "cmdb2"'
    )
    result = ok(apply(db_url, toml(tmp_path, changed, "changed.toml")))

    assert result.stdout.splitlines() == [
        "updated: import-cmdb",
        "0 created, 1 updated, 1 unchanged, 0 deleted",
    ]
    after = {j["name"]: j for j in jobs_json(db_url)}
    assert after["selfcheck"] == before["selfcheck"]
    job = after["import-cmdb"]
    assert job["cron"] == "45 4 * * *"
    assert job["parameters"]["env"] == {"SOURCE": "cmdb2"}
    assert job["created_at"] == before["import-cmdb"]["created_at"]
    assert job["updated_at"] >= before["import-cmdb"]["updated_at"]
    assert job["next_due"] != before["import-cmdb"]["next_due"]  # the schedule changed
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT0[23]:45:00Z", job["next_due"])  # 04:45 in Berlin


def test_prune_deletes_jobs_the_file_does_not_define(db_url: str, tmp_path: Path) -> None:
    ok(invoke(db_url, "jobs", "add", "hand-made", "--type", "self-check"))
    path = toml(tmp_path, BASE)

    kept = ok(apply(db_url, path))
    assert "deleted" not in kept.stdout.replace("0 deleted", "")
    assert [j["name"] for j in jobs_json(db_url)] == ["hand-made", "import-cmdb", "selfcheck"]

    pruned = ok(apply(db_url, path, "--prune"))
    assert pruned.stdout.splitlines() == [
        "deleted: hand-made",
        "0 created, 0 updated, 2 unchanged, 1 deleted",
    ]
    assert [j["name"] for j in jobs_json(db_url)] == ["import-cmdb", "selfcheck"]


def test_dry_run_changes_nothing(db_url: str, tmp_path: Path) -> None:
    ok(apply(db_url, toml(tmp_path, BASE)))
    ok(invoke(db_url, "jobs", "add", "hand-made", "--type", "self-check"))
    before = jobs_json(db_url)
    changed = BASE.replace('interval = "15m"', 'interval = "20m"') + textwrap.dedent("""
        [jobs.brand-new]
        type = "self-check"
    """)
    path = toml(tmp_path, changed, "changed.toml")

    result = ok(apply(db_url, path, "--prune", "--dry-run"))
    report = json.loads(ok(apply(db_url, path, "--prune", "--dry-run", "--json")).stdout)

    assert result.stdout.splitlines() == [
        "would be created: brand-new",
        "would be updated: selfcheck",
        "would be deleted: hand-made",
        "1 would be created, 1 would be updated, 1 unchanged, 1 would be deleted",
    ]
    assert (
        report["created"],
        report["updated"],
        report["unchanged"],
        report["deleted"],
        report["dry_run"],
    ) == (["brand-new"], ["selfcheck"], ["import-cmdb"], ["hand-made"], True)
    assert jobs_json(db_url) == before


def test_a_file_with_one_bad_job_changes_nothing_at_all(db_url: str, tmp_path: Path) -> None:
    ok(apply(db_url, toml(tmp_path, BASE)))
    ok(invoke(db_url, "jobs", "add", "hand-made", "--type", "self-check"))
    before, periods_before = jobs_json(db_url), periods_json(db_url)
    bad = textwrap.dedent("""
        [timeperiods.office]
        ranges = { monday = "09:00-17:00" }

        [jobs.a-new-one]
        type = "self-check"
        timeperiod = "office"

        [jobs.import-cmdb]
        type = "command"
        parameters = { command = "true" }
        cron = "0 3 * * *"

        [jobs.selfcheck]
        type = "self-check"
        cron = "0 3 * * mon-fry"
    """)

    result = apply(db_url, toml(tmp_path, bad, "bad.toml"), "--prune")

    line = one_error_line(result)
    assert line.startswith("director: error: ")
    assert "cron: invalid value '0 3 * * mon-fry': " in line
    assert jobs_json(db_url) == before
    assert periods_json(db_url) == periods_before == []


def test_an_error_in_a_file_names_the_job(db_url: str, tmp_path: Path) -> None:
    bad = BASE.replace('interval = "15m"', 'cron = "0 3 * * mon-fry"')

    line = one_error_line(apply(db_url, toml(tmp_path, bad)))

    assert line.startswith(
        "director: error: jobs.selfcheck.cron: invalid value '0 3 * * mon-fry': "
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            [jobs.a]
            type = "command"
            """,
            re.compile(
                r"director: error: file: invalid value '.*/jobs\.toml': not valid TOML: "
                r"Cannot declare \('jobs', 'a'\) twice \(at line 3, column \d+\)"
            ),
            id="duplicate-table",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            [jobs]
            a = { type = "command" }
            """,
            re.compile(r"director: error: file: invalid value '.*/jobs\.toml': not valid TOML: .+"),
            id="duplicate-key",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            shedule = "daily"
            """,
            re.compile(
                re.escape(
                    f"director: error: jobs.a.shedule: invalid value 'daily': unknown key; "
                    f"expected one of {JOB_KEYS}"
                )
                + r"(, [a-z_]+)*"
            ),
            id="unknown-key",
        ),
        pytest.param(
            """\
            [job.a]
            type = "self-check"
            """,
            re.compile(
                r"director: error: job: invalid value \{'a': \{'type': 'self-check'\}\}: "
                r"unknown section; expected jobs.*"
            ),
            id="unknown-section",
        ),
        pytest.param(
            """\
            version = 2
            """,
            re.compile(
                r"director: error: version: invalid value 2: unknown section; expected jobs.*"
            ),
            id="unknown-top-level-key",
        ),
        pytest.param(
            """\
            [jobs.a]
            description = "no type"
            """,
            "director: error: jobs.a.type: invalid value None: every job needs a type",
            id="missing-type",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            interval = "15x"
            """,
            "director: error: jobs.a.interval: invalid value '15x': "
            "expected a duration such as 90, 90s, 15m, 2h or 1d",
            id="bad-interval",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            retries = -1
            """,
            "director: error: jobs.a.retries: invalid value -1: expected a whole number >= 0",
            id="negative-retries",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            disabled = "yes"
            """,
            "director: error: jobs.a.disabled: invalid value 'yes': expected true or false",
            id="flag-not-bool",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            tags = "one"
            """,
            "director: error: jobs.a.tags: invalid value 'one': expected a list of strings",
            id="tags-not-a-list",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            parameters = "message=hi"
            """,
            "director: error: jobs.a.parameters: invalid value 'message=hi': expected a table",
            id="parameters-not-a-table",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            cron = 5
            """,
            "director: error: jobs.a.cron: invalid value 5: expected a string",
            id="cron-not-a-string",
        ),
        pytest.param(
            """\
            [jobs."bad name"]
            type = "self-check"
            """,
            "director: error: jobs.bad name: invalid value 'bad name': "
            "expected 1-64 characters of letters, digits, '.', '_', '-'",
            id="bad-name",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "nope"
            """,
            re.compile(
                r"director: error: jobs\.a\.type: unknown job type 'nope'; known types: "
                r".*\bself-check\b.*"
            ),
            id="unknown-type",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            parameters = { mesage = "hi" }
            """,
            "director: error: jobs.a.parameters.mesage: invalid value 'hi': "
            "unknown parameter; self-check takes levels, message",
            id="unknown-parameter",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            timeperiod = "nowhere"
            """,
            "director: error: jobs.a.timeperiod: invalid value 'nowhere': "
            "no time period of that name",
            id="unknown-timeperiod",
        ),
        pytest.param(
            """\
            [jobs]
            a = 1
            """,
            "director: error: jobs.a: invalid value 1: expected a table",
            id="job-not-a-table",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            interval = [1]
            """,
            "director: error: jobs.a.interval: invalid value [1]: "
            "expected a duration such as 90, 90s, 15m, 2h or 1d",
            id="interval-a-list",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            retries = '2'
            """,
            "director: error: jobs.a.retries: invalid value '2': expected a whole number >= 0",
            id="retries-a-string",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "self-check"
            description = "a\\u0000b"
            """,
            "director: error: jobs.a.description: invalid value 'a\\x00b': contains a NUL "
            "character or a lone surrogate (invalid Unicode)",
            id="nul-in-description",
        ),
        pytest.param(
            """\
            [jobs.a]
            type = "command"
            parameters = { command = "true", env = { PGPASSWORD = "s3cret\\u0000" } }
            """,
            "director: error: jobs.a.parameters.env.PGPASSWORD: invalid value '***': "
            "contains a NUL character or a lone surrogate (invalid Unicode)",
            id="nul-in-a-parameter",
        ),
        pytest.param(
            """\
            [timeperiods.p]
            ranges = { monday = "09:00-17:00\\u0000" }
            """,
            "director: error: timeperiods.p.ranges.monday: invalid value '09:00-17:00\\x00': "
            "contains a NUL character or a lone surrogate (invalid Unicode)",
            id="nul-in-a-range",
        ),
        pytest.param(
            """\
            [imports.s]
            provider = "csv"
            key_column = "host"
            settings = { path = "/srv/hosts.csv\\u0000" }
            """,
            "director: error: imports.s.settings.path: invalid value '/srv/hosts.csv\\x00': "
            "contains a NUL character or a lone surrogate (invalid Unicode)",
            id="nul-in-a-source-setting",
        ),
        pytest.param(
            "[jobs.a]\ntype = 'self-check'\nparameters = { message = "
            + "[" * 5000
            + "]" * 5000
            + " }\n",
            re.compile(
                r"director: error: file: invalid value '.*/jobs\.toml': "
                r"arrays or tables nested too deeply"
            ),
            id="nested-5000-deep",
        ),
        pytest.param(
            "jobs = [1, 2]\n",
            "director: error: jobs: invalid value [1, 2]: expected tables like [jobs.my-job]",
            id="jobs-not-tables",
        ),
    ],
)
def test_bad_files_change_nothing(
    db_url: str, tmp_path: Path, text: str, expected: str | re.Pattern[str]
) -> None:
    ok(invoke(db_url, "jobs", "add", "existing", "--type", "self-check", "--interval", "1h"))
    before = jobs_json(db_url)

    line = one_error_line(apply(db_url, toml(tmp_path, text), "--prune"))

    if isinstance(expected, str):
        assert line == expected
    else:
        assert expected.fullmatch(line), line
    assert jobs_json(db_url) == before


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param('[jobs.a]\ntype = "self-check"\n'.encode("utf-16"), "byte 0", id="utf-16"),
        pytest.param(b'[jobs.a]\ntype = "\xff"\n', "byte 17", id="latin-1-byte"),
        pytest.param(bytes(range(128, 256)), "byte 0", id="binary"),
    ],
)
def test_a_file_that_is_not_utf8_changes_nothing(
    db_url: str, tmp_path: Path, data: bytes, reason: str
) -> None:
    ok(invoke(db_url, "jobs", "add", "existing", "--type", "self-check", "--interval", "1h"))
    before = jobs_json(db_url)
    path = tmp_path / "jobs.toml"
    path.write_bytes(data)

    line = one_error_line(apply(db_url, path))

    assert line == (
        f"director: error: file: invalid value '{path}': TOML must be UTF-8 text; "
        f"{reason}: invalid start byte"
    )
    assert jobs_json(db_url) == before


def test_missing_file(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    line = one_error_line(apply(db_url, path))
    assert (
        line
        == f"director: error: file: invalid value '{path}': cannot read: No such file or directory"
    )


def test_an_empty_file_with_prune_deletes_everything(db_url: str, tmp_path: Path) -> None:
    ok(apply(db_url, toml(tmp_path, BASE)))

    result = ok(apply(db_url, toml(tmp_path, "", "empty.toml"), "--prune"))

    assert result.stdout.splitlines()[-1] == "0 created, 0 updated, 0 unchanged, 2 deleted"
    assert jobs_json(db_url) == []


# -- export -----------------------------------------------------------------------------------


def test_export_of_an_empty_database_applies_to_nothing(
    db_url: str, other_url: str, tmp_path: Path
) -> None:
    text = ok(invoke(db_url, "export")).stdout
    assert text.startswith("# director-jobs definitions")
    result = ok(apply(other_url, toml(tmp_path, text, "export.toml")))
    assert result.stdout == "0 created, 0 updated, 0 unchanged, 0 deleted\n"


def test_export_then_apply_to_a_fresh_database_is_identical(
    db_url: str, other_url: str, tmp_path: Path
) -> None:
    ok(apply(db_url, toml(tmp_path, BASE)))
    ok(
        invoke(
            db_url,
            "timeperiods",
            "add",
            "office",
            "--range",
            "monday=09:00-17:00",
            "--range",
            "tuesday=09:00-12:00,13:00-17:00",
            "--timezone",
            "Europe/Berlin",
        )
    )
    for args in (
        (
            "jobs",
            "add",
            "web.deploy",
            "--type",
            "command",
            "--parameters",
            '{"command": "deploy --all"}',
            "--interval",
            "1h30m",
            "--timeperiod",
            "office",
            "--timeout",
            "90s",
            "--retry-delay",
            "0",
        ),
        (
            "jobs",
            "add",
            "manual_only",
            "--type",
            "self-check",
            "--description",
            'Say "hi"\nthen leave',
        ),
        (
            "jobs",
            "add",
            "hourly",
            "--type",
            "self-check",
            "--cron",
            "@hourly",
            "--tag",
            "a",
            "--tag",
            "b",
        ),
    ):
        ok(invoke(db_url, *args))

    exported = ok(invoke(db_url, "export")).stdout
    result = ok(apply(other_url, toml(tmp_path, exported, "export.toml")))

    assert result.stdout.splitlines()[-1] == "5 created, 0 updated, 0 unchanged, 0 deleted"
    assert definitions(other_url) == definitions(db_url)
    assert periods_json(other_url) == periods_json(db_url)
    assert ok(invoke(other_url, "export")).stdout == exported
    # …and applying the export to its own database changes nothing.
    again = ok(apply(db_url, toml(tmp_path, exported, "export.toml")))
    assert again.stdout.splitlines()[-1] == "0 created, 0 updated, 5 unchanged, 0 deleted"


TRICKY_DATA: Any = {
    "quotes": "say \"hi\" and 'bye'",
    "backslashes": "C:\\Program Files\\x \\n not a newline \\\\",
    "newlines": "line 1\nline 2\r\nline 3\n",
    "tabs and controls": "a\tb\u0001c\u001fd",
    "unicode": "Grüße, 日本語, emoji 🎉, combining é, RTL שלום",
    "toml-ish": "\"\"\" ''' [jobs.x] # not a comment = 1",
    "": "empty key",
    "key with spaces and.dots": ["a", "b"],
    "nested": {
        "list": [1, -2, 3.5, 1e300, True, False, "x", [], {}, [[["deep"]]], {"k": [{"kk": "vv"}]}],
        "dict": {"inner": {"innermost": "🎯"}},
        "empty": {},
    },
    "big": 9007199254740993,
    "float": 0.1,
}


def test_export_round_trips_tricky_parameters(db_url: str, other_url: str, tmp_path: Path) -> None:
    params = {"data": TRICKY_DATA}
    ok(
        invoke(
            db_url,
            "jobs",
            "add",
            "tricky",
            "--type",
            "any-json",
            "--parameters",
            json.dumps(params),
        )
    )
    ok(
        invoke(
            db_url,
            "jobs",
            "add",
            "argv",
            "--type",
            "command",
            "--parameters",
            json.dumps(
                {
                    "command": ["printf", "%s\\n", 'a "quoted" \\ arg\nwith newline ✓'],
                    "env": {'QUOTE"KEY': "va\\lue\n\t✓", "EMPTY": "", "PATH_LIKE": "/a:/b"},
                    "success_exit_codes": [0, 3],
                }
            ),
        )
    )
    assert jobs_json(db_url)[1]["parameters"] == params

    exported = ok(invoke(db_url, "export")).stdout
    ok(apply(other_url, toml(tmp_path, exported, "export.toml")))

    assert definitions(other_url) == definitions(db_url)
    assert jobs_json(other_url)[1]["parameters"] == params
    again = ok(apply(db_url, toml(tmp_path, exported, "export.toml")))
    assert again.stdout == "0 created, 0 updated, 2 unchanged, 0 deleted\n"


def test_export_round_trips_non_ascii_keys(db_url: str, other_url: str, tmp_path: Path) -> None:
    params = {"command": "true", "env": {"GRÜSSE": "x"}}
    ok(
        invoke(
            db_url, "jobs", "add", "umlaut", "--type", "command", "--parameters", json.dumps(params)
        )
    )

    exported = ok(invoke(db_url, "export")).stdout
    ok(apply(other_url, toml(tmp_path, exported, "export.toml")))

    assert definitions(other_url) == definitions(db_url)


def test_export_round_trips_a_delete_character(db_url: str, other_url: str, tmp_path: Path) -> None:
    params = {"data": "before\u007fafter"}
    ok(
        invoke(
            db_url, "jobs", "add", "del", "--type", "any-json", "--parameters", json.dumps(params)
        )
    )

    exported = ok(invoke(db_url, "export")).stdout
    ok(apply(other_url, toml(tmp_path, exported, "export.toml")))

    assert definitions(other_url) == definitions(db_url)


def test_export_round_trips_explicit_nulls(db_url: str, other_url: str, tmp_path: Path) -> None:
    params = {"command": "true", "cwd": None}
    ok(
        invoke(
            db_url, "jobs", "add", "nulls", "--type", "command", "--parameters", json.dumps(params)
        )
    )
    before = jobs_json(db_url)

    exported = ok(invoke(db_url, "export")).stdout
    again = ok(apply(db_url, toml(tmp_path, exported, "export.toml")))
    ok(apply(other_url, toml(tmp_path, exported, "export.toml")))

    assert again.stdout == "0 created, 0 updated, 1 unchanged, 0 deleted\n"
    assert jobs_json(db_url) == before
    assert definitions(other_url) == definitions(db_url)


def test_export_names_the_secrets_it_writes_or_masks_them(db_url: str) -> None:
    parameters = {"command": "psql -c 'select 1'", "env": {"PGPASSWORD": "s3cret-pw"}}
    added = ["jobs", "add", "query", "--type", "command", "--parameters", json.dumps(parameters)]
    ok(invoke(db_url, *added))
    listed = invoke(db_url, "jobs", "list", "--json").stdout
    assert "s3cret-pw" not in listed  # list masks

    exported = invoke(db_url, "export")
    masked = invoke(db_url, "export", "--mask-secrets")

    assert exported.exit_code == 0 and 'PGPASSWORD = "s3cret-pw"' in exported.stdout
    assert exported.stderr == (
        "director: warning: jobs.query.parameters.env.PGPASSWORD holds a secret, written as it is\n"
    )
    assert masked.exit_code == 0 and masked.stderr == ""
    assert 'PGPASSWORD = "***"' in masked.stdout and "s3cret-pw" not in masked.stdout
