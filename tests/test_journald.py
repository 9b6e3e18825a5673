"""Logging to a real journald: structured job fields, priorities, no colour codes.

A standalone systemd-journald runs in private mount and PID namespaces
(tests/systemd/journald.sh); `director -v jobs run` runs next to it with stderr on a journal
stream and JOURNAL_STREAM set the way systemd sets it for a service.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import missing, run_director

JOURNALD_SH = Path(__file__).resolve().parent / "systemd" / "journald.sh"
DIRECTOR_BIN = Path(sys.executable).parent / "director"
ANSI = "\x1b["
STREAM_ID = "director-jobs-stream"  # identifier of plain stdout/stderr lines (systemd-cat -t)


def _require_journald() -> None:
    if os.geteuid() != 0:
        missing("a standalone journald", "run as root (unshare needs CAP_SYS_ADMIN)")
    if not Path("/lib/systemd/systemd-journald").exists():
        missing("systemd-journald", "install: apt-get install systemd")
    for tool in ("unshare", "systemd-cat", "journalctl", "stat"):
        if shutil.which(tool) is None:
            missing(tool, "install: apt-get install systemd util-linux coreutils")
    try:
        from systemd import journal  # noqa: F401
    except ImportError:
        missing(
            "systemd-python",
            "install: apt-get install libsystemd-dev pkg-config gcc; pip install systemd-python",
        )


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def journal_of_a_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run two jobs (one fails) under a private journald, once; return the journal queries."""
    _require_journald()
    tmp_path = tmp_path_factory.mktemp("journald")
    sqlite_url = f"sqlite:///{tmp_path / 'jobs.db'}"
    for args in (
        ("jobs", "add", "check", "--type", "self-check", "--interval", "1h"),
        (
            "jobs",
            "add",
            "broken",
            "--type",
            "command",
            "--interval",
            "1h",
            "--parameters",
            json.dumps({"command": "sh -c 'echo boom >&2; exit 3'"}),
        ),
    ):
        added = run_director(sqlite_url, *args)
        assert added.returncode == 0, added.stderr

    out = tmp_path / "out"
    out.mkdir()
    director = shlex.quote(str(DIRECTOR_BIN))
    query = 'journalctl -D "$JOURNAL_DIR" --no-pager -o json'
    steps = tmp_path / "steps.sh"
    steps.write_text(
        f"""
cd {shlex.quote(str(out))}
rc=0; as_service director-jobs {director} -v jobs run || rc=$?; echo $rc > rc-pass
# The same program when JOURNAL_STREAM does not match its stderr (e.g. a shell redirect
# in a unit): plain text on the stream, no journal fields.
rc=0; JOURNAL_STREAM=0:0 systemd-cat -t {STREAM_ID} {director} -v jobs run check || rc=$?
echo $rc > rc-plain
journal_sync
{query} SYSLOG_IDENTIFIER=director-jobs > native.json
{query} SYSLOG_IDENTIFIER=director-jobs JOB_NAME=broken > broken.json
{query} SYSLOG_IDENTIFIER={STREAM_ID} > plain.json
{query} SYSLOG_IDENTIFIER=director-jobs RUN_STATUS=error -p err > errors.json
"""
    )
    env = {
        **os.environ,
        "DIRECTOR_JOBS_DATABASE_URL": sqlite_url,
        "TZ": "UTC",
    }
    env.pop("DIRECTOR_JOBS_CONFIG", None)
    env.pop("JOURNAL_STREAM", None)
    env.pop("NO_COLOR", None)  # colour must be off because of the journal, not because of this
    result = subprocess.run(
        ["bash", str(JOURNALD_SH), str(steps)], env=env, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, result.stderr
    history = run_director(sqlite_url, "jobs", "history", "--json")
    assert history.returncode == 0, history.stderr
    return {
        "rc_pass": int((out / "rc-pass").read_text()),
        "rc_plain": int((out / "rc-plain").read_text()),
        "native": _read(out / "native.json"),
        "broken": _read(out / "broken.json"),
        "plain": _read(out / "plain.json"),
        "errors": _read(out / "errors.json"),
        "runs": json.loads(history.stdout),
    }


@pytest.mark.timeout(120)
def test_job_lines_reach_journald_with_fields(journal_of_a_run: dict[str, Any]) -> None:
    """Job lines carry JOB_NAME/JOB_TYPE/RUN_ID; the failed run's end is an error (PRIORITY=3)."""
    j = journal_of_a_run
    assert j["rc_pass"] == 1  # a job failed
    native = j["native"]
    runs = {r["job"]: r for r in j["runs"] if r["trigger"] == "schedule"}
    assert {"check", "broken"} <= set(runs), j["runs"]

    job_lines = [r for r in native if "JOB_NAME" in r]
    for name, job_type in (("check", "self-check"), ("broken", "command")):
        lines = [r for r in job_lines if r["JOB_NAME"] == name]
        messages = [r["MESSAGE"] for r in lines]
        assert any(m.startswith(f"starting job {name} ") for m in messages), messages
        assert any(m.startswith(f"job {name} finished: ") for m in messages), messages
        assert {r["JOB_TYPE"] for r in lines} == {job_type}
        assert {r["RUN_ID"] for r in lines} == {str(runs[name]["id"])}
    # The job's own lines (the self-check's INFO..ERROR, the command's stderr) are tagged too.
    check_messages = {r["MESSAGE"] for r in job_lines if r["JOB_NAME"] == "check"}
    assert "Test output in WARN level" in check_messages
    assert any(r["MESSAGE"] == "boom" for r in job_lines if r["JOB_NAME"] == "broken")

    [finished] = [r for r in job_lines if r["MESSAGE"].startswith("job broken finished: ")]
    assert finished["RUN_STATUS"] == "error"
    assert finished["PRIORITY"] == "3"
    assert "exited with 3" in finished["MESSAGE"]
    [ok] = [r for r in job_lines if r["MESSAGE"].startswith("job check finished: ")]
    assert (ok["RUN_STATUS"], ok["PRIORITY"]) == ("success", "6")
    assert [r["__CURSOR"] for r in j["errors"]] == [finished["__CURSOR"]]

    assert not [r["MESSAGE"] for r in native if ANSI in r["MESSAGE"]]
    assert not [r for r in native if r["MESSAGE"].startswith("[")], "plain-text format leaked"


@pytest.mark.timeout(120)
def test_journalctl_filters_by_job_name(journal_of_a_run: dict[str, Any]) -> None:
    """`journalctl JOB_NAME=broken` gives exactly that job's lines."""
    j = journal_of_a_run
    broken = j["broken"]
    expected = [r["__CURSOR"] for r in j["native"] if r.get("JOB_NAME") == "broken"]
    assert len(expected) >= 3
    assert [r["__CURSOR"] for r in broken] == expected
    assert {r["JOB_NAME"] for r in broken} == {"broken"}


@pytest.mark.timeout(120)
def test_mismatched_journal_stream_logs_plain_text(journal_of_a_run: dict[str, Any]) -> None:
    """JOURNAL_STREAM that is not stderr's: plain lines on the stream, no native records."""
    j = journal_of_a_run
    assert j["rc_plain"] == 0
    plain = [r["MESSAGE"] for r in j["plain"]]
    assert any("[INFO ] starting job check " in m for m in plain), plain
    assert not [r for r in j["plain"] if "JOB_NAME" in r]
    manual = [r for r in j["runs"] if r["job"] == "check" and r["trigger"] == "manual"]
    assert len(manual) == 1, j["runs"]
    assert not [r for r in j["native"] if r.get("RUN_ID") == str(manual[0]["id"])]
