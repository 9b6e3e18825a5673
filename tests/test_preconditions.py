"""Preconditions (OpenSVC's `run_requires`): a command that must exit 0 and a path that must
exist, checked before each start; a failed one is a visible `skipped` run with the reason,
and the job comes due again by its schedule. Real child processes on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from api_server import ApiServer, make_token
from conftest import invoke, read_pids, run_director, wait_until_gone

from director_jobs.notify.icinga import CRITICAL, OK, check_state


def add(url: str, name: str, *options: str) -> None:
    added = invoke(url, "jobs", "add", name, "--type", "self-check", "--interval", "1h", *options)
    assert added.exit_code == 0, added.output


def runs(url: str) -> list[dict[str, Any]]:
    """Every run, oldest first."""
    result = run_director(url, "jobs", "history", "--json", "--limit", "100")
    assert result.returncode == 0, result.stderr
    return list(reversed(json.loads(result.stdout)))


def job(url: str, name: str) -> dict[str, Any]:
    result = run_director(url, "jobs", "show", name, "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_a_met_precondition_lets_the_job_run(db_url: str, tmp_path: Path) -> None:
    marker = tmp_path / "primary"
    marker.touch()
    add(db_url, "on-primary", "--requires-path", str(marker),
        "--requires-command", "/bin/sh -c 'test -e \"$0\"' " + str(marker))  # fmt: skip
    shown = run_director(db_url, "jobs", "show", "on-primary")
    assert f"requires:      {marker} to exist" in shown.stdout
    assert "requires:      `/bin/sh -c 'test -e \"$0\"' " in shown.stdout
    ran = run_director(db_url, "jobs", "run")
    assert ran.returncode == 0, ran.stderr
    assert [(r["job"], r["status"]) for r in runs(db_url)] == [("on-primary", "success")]


def test_a_check_that_leaves_a_process_behind_is_answered_by_its_exit(sqlite_url: str) -> None:
    add(sqlite_url, "forks", "--requires-command", "sh -c 'sleep 30 & exit 0'")
    ran = run_director(sqlite_url, "jobs", "run")
    assert ran.returncode == 0, ran.stderr
    assert [(r["job"], r["status"]) for r in runs(sqlite_url)] == [("forks", "success")]


def test_a_failing_command_skips_the_start_with_its_reason(db_url: str) -> None:
    add(db_url, "standby-check", "--requires-command", "sh -c 'echo this node is standby; exit 3'")
    ran = run_director(db_url, "jobs", "run", "--verbose")
    assert ran.returncode == 0, ran.stderr  # a skipped start is not a failure
    assert "[INFO ] job standby-check finished: skipped" in ran.stderr, ran.stderr
    assert "[ERROR]" not in ran.stderr
    (run,) = runs(db_url)
    assert run["status"] == "skipped"
    assert run["error"] == (
        "precondition: sh -c 'echo this node is standby; exit 3' exited 3: this node is standby"
    )
    # Due again by its schedule (an hour after this attempt), not at once.
    next_due = datetime.fromisoformat(job(db_url, "standby-check")["next_due"])
    started = datetime.fromisoformat(run["started_at"])
    assert timedelta(minutes=59) < next_due - started <= timedelta(hours=1)
    again = run_director(db_url, "jobs", "run")
    assert again.returncode == 0 and len(runs(db_url)) == 1  # nothing due: no new run


def test_icinga_hears_a_skipped_start_as_ok() -> None:
    assert check_state({"status": "skipped", "final": True}) == OK
    assert check_state({"status": "error", "final": True}) == CRITICAL


def test_a_missing_path_or_program_skips_the_start(db_url: str, tmp_path: Path) -> None:
    add(db_url, "needs-path", "--requires-path", str(tmp_path / "absent"))
    add(db_url, "needs-program", "--requires-command", str(tmp_path / "no-such-program"))
    ran = run_director(db_url, "jobs", "run", "needs-path", "needs-program")  # manual, too
    assert ran.returncode == 0, ran.stderr
    reasons = {r["job"]: (r["status"], r["error"]) for r in runs(db_url)}
    assert reasons["needs-path"] == (
        "skipped",
        f"precondition: {tmp_path / 'absent'} does not exist",
    )
    status, error = reasons["needs-program"]
    assert status == "skipped"
    assert error.startswith(f"precondition: {tmp_path / 'no-such-program'} could not start: ")


def test_a_hanging_check_is_killed_and_the_next_job_still_runs(
    sqlite_url: str, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    add(sqlite_url, "hangs", "--requires-command", f"sh -c 'echo $$ >> {pids}; exec sleep 600'")
    add(sqlite_url, "after-it")
    ran = run_director(sqlite_url, "jobs", "run", timeout=120)
    assert ran.returncode == 0, ran.stderr
    by_job = {r["job"]: r for r in runs(sqlite_url)}
    assert by_job["hangs"]["status"] == "skipped"
    assert "did not answer within 10 s" in by_job["hangs"]["error"]
    assert by_job["after-it"]["status"] == "success"
    assert wait_until_gone(read_pids(pids, 1)) == [], "the check's process was left running"


def test_bad_preconditions_are_refused_naming_the_field(sqlite_url: str, tmp_path: Path) -> None:
    for options, field, text in (
        (["--requires-path", "relative/file"], "requires_path", "'relative/file'"),
        (["--requires-command", "'unclosed"], "requires-command", '"\'unclosed"'),
    ):
        result = run_director(sqlite_url, "jobs", "add", "bad", "--type", "self-check", *options)
        assert result.returncode == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert f"{field}: invalid value {text}" in line, line
    definitions = tmp_path / "jobs.toml"
    definitions.write_text('[jobs.bad]\ntype = "self-check"\nrequires_command = "true"\n')
    applied = run_director(sqlite_url, "apply", str(definitions))
    assert applied.returncode == 2
    assert "jobs.bad.requires_command: invalid value 'true'" in applied.stderr
    assert json.loads(run_director(sqlite_url, "jobs", "list", "--json").stdout) == []


def test_apply_and_export_keep_the_preconditions(sqlite_url: str, tmp_path: Path) -> None:
    definitions = tmp_path / "jobs.toml"
    definitions.write_text(
        '[jobs.backup]\ntype = "self-check"\n'
        'requires_command = ["/usr/local/bin/is-active-node", "--quiet"]\n'
        'requires_path = "/run/director/primary"\n'
    )
    assert run_director(sqlite_url, "apply", str(definitions)).returncode == 0
    exported = run_director(sqlite_url, "export").stdout
    assert 'requires_command = ["/usr/local/bin/is-active-node", "--quiet"]' in exported
    assert 'requires_path = "/run/director/primary"' in exported
    again = tmp_path / "again.toml"
    again.write_text(exported)
    unchanged = run_director(sqlite_url, "apply", str(again))
    assert "0 created, 0 updated, 1 unchanged" in unchanged.stdout, unchanged.stdout
    cleared = invoke(sqlite_url, "jobs", "set", "backup", "--requires-command", "",
                     "--requires-path", "")  # fmt: skip
    assert cleared.exit_code == 0, cleared.output
    shown = job(sqlite_url, "backup")
    assert shown["requires_command"] == [] and shown["requires_path"] is None


def test_the_api_takes_and_shows_preconditions(sqlite_url: str, tmp_path: Path) -> None:
    token = make_token(sqlite_url, "ops", "admin")
    server = ApiServer(sqlite_url, tmp_path / "serve.log").start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{server.url}/api/v1/jobs/guarded"
        body = {"type": "self-check", "requires_command": ["/bin/true"], "requires_path": "/"}
        created = httpx.post(url, json=body, headers=headers, timeout=60)
        assert created.status_code == 201, created.text
        shown = httpx.get(url, headers=headers, timeout=60).json()
        assert shown["requires_command"] == ["/bin/true"] and shown["requires_path"] == "/"
        bad = {"type": "self-check", "requires_path": "etc/passwd"}
        refused = httpx.put(url, json=bad, headers=headers, timeout=60)
        assert refused.status_code == 422
        assert refused.json()["error"]["field"] == "requires_path"
        after = httpx.get(url, headers=headers, timeout=60).json()
        assert after["requires_path"] == "/"  # nothing written
    finally:
        server.stop()
