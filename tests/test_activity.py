"""The activity log: changes from the CLI, `apply` and the API, with who, what and the
definition before and after (secrets masked); shown by `director activity` and the API;
purged by housekeeping."""

from __future__ import annotations

import json
import os
import pwd
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from api_server import ApiServer, make_token
from conftest import invoke, run_director

from director_jobs import exit_codes
from director_jobs.db.activity_repo import ActivityEntry
from director_jobs.db.database import Database

SECRET = "s3cret-in-the-env"
ME = f"cli:{pwd.getpwuid(os.getuid()).pw_name}"


def activity(url: str, *args: str) -> list[dict[str, Any]]:
    result = invoke(url, "activity", "--json", *args)
    assert result.exit_code == 0, result.output
    entries: list[dict[str, Any]] = json.loads(result.stdout)
    return entries


def ok(url: str, *args: str) -> None:
    result = invoke(url, *args)
    assert result.exit_code == 0, result.output


def test_cli_changes_are_logged_with_the_unix_user_and_secrets_masked(sqlite_url: str) -> None:
    params = json.dumps({"command": "true", "env": {"API_PASSWORD": SECRET}})
    ok(sqlite_url, "jobs", "add", "j", "--type", "command", "--interval", "1h",
       "--parameters", params)  # fmt: skip
    ok(sqlite_url, "jobs", "set", "j", "--interval", "2h")
    ok(sqlite_url, "jobs", "disable", "j")
    ok(sqlite_url, "jobs", "enable", "j")
    ok(sqlite_url, "jobs", "trigger", "j")
    ok(sqlite_url, "jobs", "delete", "j")
    ok(sqlite_url, "timeperiods", "add", "office", "--range", "monday=09:00-17:00")
    ok(sqlite_url, "timeperiods", "delete", "office")
    make_token(sqlite_url, "ci", "viewer")
    ok(sqlite_url, "tokens", "revoke", "ci")

    entries = activity(sqlite_url)
    assert [(e["action"], e["kind"], e["name"]) for e in reversed(entries)] == [
        ("created", "job", "j"),
        ("updated", "job", "j"),
        ("disabled", "job", "j"),
        ("enabled", "job", "j"),
        ("triggered", "job", "j"),
        ("deleted", "job", "j"),
        ("created", "timeperiod", "office"),
        ("deleted", "timeperiod", "office"),
        ("created", "token", "ci"),
        ("revoked", "token", "ci"),
    ]
    assert all(e["actor"] == ME for e in entries)
    updated = next(e for e in entries if e["action"] == "updated")
    assert (updated["before"]["interval"], updated["after"]["interval"]) == (3600.0, 7200.0)
    assert updated["after"]["parameters"]["env"]["API_PASSWORD"] == "***"
    assert SECRET not in invoke(sqlite_url, "activity", "--json").stdout
    table = invoke(sqlite_url, "activity", "--since", "1h")
    assert table.exit_code == 0 and "triggered" in table.stdout and ME in table.stdout


def test_apply_is_logged_as_the_file_with_a_diff_and_a_dry_run_is_not(
    sqlite_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "jobs.toml"
    file.write_text('[jobs.a]\ntype = "self-check"\ninterval = "1h"\n'
                    '[timeperiods.nights]\nranges = { monday = "22:00-24:00" }\n')  # fmt: skip
    ok(sqlite_url, "apply", str(file))
    file.write_text(file.read_text().replace('"1h"', '"3h"'))
    ok(sqlite_url, "apply", str(file), "--dry-run")
    ok(sqlite_url, "apply", str(file))

    entries = activity(sqlite_url)
    assert [(e["action"], e["kind"], e["name"]) for e in reversed(entries)] == [
        ("created", "job", "a"),
        ("created", "timeperiod", "nights"),
        ("updated", "job", "a"),
    ]
    assert all(e["actor"] == f"apply:{file}" for e in entries)
    assert (entries[0]["before"]["interval"], entries[0]["after"]["interval"]) == (3600.0, 10800.0)


def test_timeperiods_import_is_logged_per_period_and_a_dry_run_is_not(
    sqlite_url: str, tmp_path: Path
) -> None:
    conf = tmp_path / "timeperiods.conf"
    conf.write_text(
        'object TimePeriod "office" {\n  ranges = { "monday" = "09:00-17:00" }\n}\n'
        'object TimePeriod "nights" {\n  ranges = { "monday" = "22:00-24:00" }\n}\n'
    )
    ok(sqlite_url, "timeperiods", "import", str(conf))
    conf.write_text(conf.read_text().replace("09:00-17:00", "08:00-18:00"))
    ok(sqlite_url, "timeperiods", "import", str(conf), "--dry-run")
    ok(sqlite_url, "timeperiods", "import", str(conf))

    entries = activity(sqlite_url)
    assert sorted((e["action"], e["name"]) for e in entries) == [
        ("created", "nights"),
        ("created", "office"),
        ("updated", "office"),
    ]
    assert all((e["kind"], e["actor"]) == ("timeperiod", ME) for e in entries)
    update = next(e for e in entries if e["action"] == "updated")
    assert update["before"]["ranges"] == {"monday": "09:00-17:00"}
    assert update["after"]["ranges"] == {"monday": "08:00-18:00"}


def test_api_changes_name_the_token_and_the_api_lists_them(sqlite_url: str, tmp_path: Path) -> None:
    ok(sqlite_url, "jobs", "add", "j", "--type", "self-check", "--interval", "1h")
    token = make_token(sqlite_url, "ops", "operator")
    server = ApiServer(sqlite_url, tmp_path / "serve.log").start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=60) as client:
            assert client.post("/jobs/j/disable").status_code == 200
            assert client.post("/jobs/j/enable").status_code == 200
            assert client.post("/jobs/j/trigger").status_code == 202
            page = client.get("/activity", params={"limit": "2"}).json()
            rest = client.get("/activity", params={"cursor": page["next_cursor"]}).json()
            bad = client.get("/activity", params={"since": "last week"})
            future = client.get("/activity", params={"since": "2099-01-01T00:00:00Z"}).json()
    finally:
        server.stop()
    assert [(e["actor"], e["action"]) for e in page["activity"]] == [
        ("api:ops", "triggered"),
        ("api:ops", "enabled"),
    ]
    assert [e["action"] for e in rest["activity"]] == ["disabled", "created", "created"]
    assert rest["next_cursor"] is None
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "since"
    assert future["activity"] == []


def test_housekeeping_removes_old_entries_only(sqlite_url: str) -> None:
    ok(sqlite_url, "jobs", "add", "recent", "--type", "self-check", "--interval", "1h")
    database = Database.open(sqlite_url)
    old = datetime.now(UTC) - timedelta(days=400)
    database.activity.add([ActivityEntry(old, "cli:someone", "created", "job", "ancient")])
    database.dispose()
    result = run_director(sqlite_url, "jobs", "execute", "housekeeping", "--parameters",
                          json.dumps({"keep_activity_days": 365}))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 activity log entries" in result.stdout + result.stderr
    assert [e["name"] for e in activity(sqlite_url)] == ["recent"]


def test_bad_activity_options(sqlite_url: str) -> None:
    since = run_director(sqlite_url, "activity", "--since", "soon")
    assert since.returncode == exit_codes.USAGE and "since: invalid value 'soon'" in since.stderr
    limit = run_director(sqlite_url, "activity", "--limit", "0")
    assert limit.returncode == exit_codes.USAGE and "limit: invalid value 0" in limit.stderr
    days = run_director(sqlite_url, "jobs", "execute", "housekeeping", "--parameters",
                        json.dumps({"keep_activity_days": 0}))  # fmt: skip
    assert days.returncode == exit_codes.USAGE, days.stderr
    assert "parameters.keep_activity_days" in days.stderr
