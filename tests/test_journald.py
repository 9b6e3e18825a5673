"""Logging to a real journald: structured job fields, priorities, no colour codes.

A standalone systemd-journald runs in private mount and PID namespaces
(tests/systemd/journald.sh); `director -v jobs run` runs next to it with stderr on a journal
stream and JOURNAL_STREAM set the way systemd sets it for a service.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, PostgresServer, missing, run_director, wait_for

from director_jobs.logs import JOURNAL_FIELDS, MessageId

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
{query} MESSAGE_ID={MessageId.RUN_STARTED} > started.json
{query} MESSAGE_ID={MessageId.RUN_SUCCEEDED} > succeeded.json
{query} MESSAGE_ID={MessageId.RUN_FAILED} > failed.json
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
        "started": _read(out / "started.json"),
        "succeeded": _read(out / "succeeded.json"),
        "failed": _read(out / "failed.json"),
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


@pytest.mark.timeout(120)
def test_run_lines_carry_a_message_id_and_the_run_fields(journal_of_a_run: dict[str, Any]) -> None:
    """`journalctl MESSAGE_ID=…` finds each start, success and failure, with the run's fields."""
    j = journal_of_a_run
    runs = {r["job"]: r for r in j["runs"] if r["trigger"] == "schedule"}
    started = {r["JOB_NAME"]: r for r in j["started"]}
    assert len(j["started"]) == 2 and set(started) == {"check", "broken"}, j["started"]
    for name, line in started.items():
        assert line["MESSAGE"].startswith(f"starting job {name} "), line
        assert (line["RUN_ID"], line["TRIGGER"], line["ATTEMPT"]) == (
            str(runs[name]["id"]), "schedule", "1",
        )  # fmt: skip
        assert "DURATION" not in line and "RUN_STATUS" not in line

    [ok] = j["succeeded"]
    [failed] = j["failed"]
    for line, name in ((ok, "check"), (failed, "broken")):
        run = runs[name]
        assert line["MESSAGE"].startswith(f"job {name} finished: {run['status']}"), line
        assert line["MESSAGE_ID"] in (MessageId.RUN_SUCCEEDED, MessageId.RUN_FAILED)
        assert (line["RUN_ID"], line["RUN_STATUS"]) == (str(run["id"]), run["status"])
        assert (line["TRIGGER"], line["ATTEMPT"]) == ("schedule", "1")
        assert line["EXIT_CODE"] == str(run["exit_code"])
        # Seconds, to the millisecond: the duration stored with the run.
        assert re.fullmatch(r"\d+\.\d{3}", line["DURATION"]), line["DURATION"]
        assert float(line["DURATION"]) == pytest.approx(run["duration"], abs=0.001)
    assert (ok["EXIT_CODE"], ok["PRIORITY"]) == ("0", "6")
    assert (failed["EXIT_CODE"], failed["PRIORITY"]) == ("3", "3")
    # The same lines in plain text (JOURNAL_STREAM not stderr's) carry no fields at all.
    assert not [r for r in j["plain"] if "MESSAGE_ID" in r]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_outage_and_recycle_lines_carry_their_message_ids(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """A daemon that starts during an outage: outage begins, ends, then a recycle (exit 0)."""
    _require_journald()
    server = PostgresServer()  # of its own: stopping it must not disturb other tests
    server.start()
    try:
        url = server.new_database()
        server.pause()
        out = tmp_path / "out"
        out.mkdir()
        query = 'journalctl -D "$JOURNAL_DIR" --no-pager -o json'
        began = MessageId.OUTAGE_BEGAN
        steps = tmp_path / "steps.sh"
        steps.write_text(
            f"""
cd {shlex.quote(str(out))}
as_service director-jobs {shlex.quote(str(DIRECTOR_BIN))} -v jobs run --forever \\
    --max-lifetime 2s &
daemon=$!
# Tell the test once the outage is in the journal; it starts the server then.
for _ in $(seq 1200); do
  journal_sync
  [ -n "$(journalctl -D "$JOURNAL_DIR" -q MESSAGE_ID={began})" ] && break
  sleep 0.1
done
touch outage-logged
rc=0; wait $daemon || rc=$?; echo $rc > rc-daemon
journal_sync
{query} SYSLOG_IDENTIFIER=director-jobs > native.json
{query} MESSAGE_ID={MessageId.OUTAGE_BEGAN} > began.json
{query} MESSAGE_ID={MessageId.OUTAGE_ENDED} > ended.json
{query} MESSAGE_ID={MessageId.RECYCLE} > recycle.json
"""
        )
        env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": url, "TZ": "UTC"}
        for name in ("DIRECTOR_JOBS_CONFIG", "JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
            env.pop(name, None)
        with subprocess.Popen(
            ["bash", str(JOURNALD_SH), str(steps)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            try:
                wait_for(
                    lambda: (out / "outage-logged").exists() or process.poll() is not None,
                    "the outage line in the journal",
                    120,
                )
                server.resume()
                stdout, stderr = process.communicate(timeout=120)
            finally:
                if process.poll() is None:
                    process.kill()
        assert process.returncode == 0, (stdout, stderr)
        assert (out / "rc-daemon").read_text().strip() == "0", stderr
        native = _read(out / "native.json")
        [began_line] = _read(out / "began.json")
        [ended] = _read(out / "ended.json")
        [recycle] = _read(out / "recycle.json")
        assert began_line["MESSAGE"].startswith("database unavailable: "), began_line
        assert began_line["PRIORITY"] == "3"
        assert ended["MESSAGE"].startswith("database is reachable again"), ended
        assert recycle["MESSAGE"].startswith("recycling: lifetime "), recycle
        assert "reached --max-lifetime 2 s" in recycle["MESSAGE"], recycle
        assert recycle["PRIORITY"] == "4"
        cursors = [r["__CURSOR"] for r in native]
        seen = [cursors.index(r["__CURSOR"]) for r in (began_line, ended, recycle)]
        assert seen == sorted(seen), "not in the order: outage, its end, the recycle"
    finally:
        server.stop()


def test_the_monitoring_guide_lists_every_message_id_and_field() -> None:
    """docs/monitoring.md names each MESSAGE_ID (with its hex value) and each journal field."""
    guide = (REPO / "docs" / "monitoring.md").read_text(encoding="utf-8")
    for message_id in MessageId:
        assert re.search(rf"`{message_id.name}`.*`{message_id.value}`", guide), message_id
    for field in JOURNAL_FIELDS:
        assert f"`{field.upper()}`" in guide, field
    assert len({m.value for m in MessageId}) == len(MessageId)
    assert all(re.fullmatch(r"[0-9a-f]{32}", m.value) for m in MessageId)
