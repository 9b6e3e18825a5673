"""A running job's output, followed from other processes while it runs: `director jobs logs
--follow` and the API's `GET /runs/{id}/log?follow=true` (Server-Sent Events).

The jobs print a line, then wait for a gate file the test creates: seeing that line
while the run is still `running` proves the output arrived before the end of the run.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import DIRECTOR, director_env, invoke, run_director, wait_for

from director_jobs import exit_codes
from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.output import OutputTail, stored_lines
from director_jobs.secrets import Scrubber
from director_jobs.services.runs import RunService


def gated_job(url: str, name: str, gate: Path, *, fail: bool = False) -> None:
    """A command job: `first`, then (once `gate` exists) `second` and `third`."""
    end = "exit 3" if fail else "true"
    script = (
        f"echo first; while [ ! -e {gate} ]; do sleep 0.1; done; echo second; echo third >&2; {end}"
    )
    added = invoke(
        url, "jobs", "add", name, "--type", "command",
        "--parameters", json.dumps({"command": script, "shell": True}),
    )  # fmt: skip
    assert added.exit_code == 0, added.output


def ran_job(url: str, name: str, folder: Path) -> None:
    """A gated job whose gate is open, run once to its end by a one-shot `jobs run NAME`."""
    gate = folder / f"{name}-gate"
    gate.touch()
    gated_job(url, name, gate)
    assert run_director(url, "jobs", "run", name).returncode == 0


@pytest.fixture
def daemon(db_url: str) -> Iterator[subprocess.Popen[str]]:
    """A `jobs run --forever` on the test's database."""
    process = subprocess.Popen(
        [*DIRECTOR, "jobs", "run", "--forever"],
        env=director_env(db_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=120)


def run_of(url: str, name: str) -> dict[str, object]:
    """The job's newest run, as `jobs history --json` shows it (waits for one)."""

    def newest() -> dict[str, object] | None:
        found = json.loads(invoke(url, "jobs", "history", name, "--json").stdout)
        return found[0] if found else None

    found = wait_for(newest, f"a run of {name}")
    return found


def test_the_stored_tail_numbers_its_lines_and_counts_what_a_follower_missed() -> None:
    tail = OutputTail(limit=40)
    for number in range(1, 11):
        tail.append(f"line {number:02}")  # 7 bytes + newline: five lines fit in 40
    text, total = tail.snapshot()
    assert total == 10
    assert text.splitlines()[0] == "[… 5 earlier lines dropped]"

    stored = stored_lines(text, total)
    kept = ["line 06", "line 07", "line 08", "line 09", "line 10"]
    assert (stored.first, stored.lines) == (6, kept)
    assert stored.after(8) == (["line 09", "line 10"], 0)
    assert stored.after(2) == (kept, 3)
    assert stored.after(10) == ([], 0)


def test_a_job_line_that_looks_like_the_dropped_note_does_not_shift_the_numbers() -> None:
    tail = OutputTail()
    tail.append("[… 5 earlier lines dropped]")
    tail.append("real")
    stored = stored_lines(*tail.snapshot())
    assert (stored.first, stored.lines) == (1, ["[… 5 earlier lines dropped]", "real"])


def test_text_with_newlines_becomes_separate_lines() -> None:
    tail = OutputTail()
    tail.append("Traceback:\n  File x\nValueError")
    assert tail.snapshot() == ("Traceback:\n  File x\nValueError", 3)


def test_jobs_logs_follow_shows_lines_while_the_job_runs_then_exits_with_its_result(
    db_url: str, tmp_path: Path, daemon: subprocess.Popen[str]
) -> None:
    gate = tmp_path / "gate"
    gated_job(db_url, "chatty", gate)
    assert run_director(db_url, "jobs", "trigger", "chatty").returncode == 0
    wait_for(lambda: run_of(db_url, "chatty")["status"] == "running", "the run to start")

    follower = subprocess.Popen(
        [*DIRECTOR, "jobs", "logs", "chatty", "--follow"],
        env={**director_env(db_url), "PYTHONUNBUFFERED": ""},  # as in a pipe to grep
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert follower.stdout is not None
        seen, early = read_lines(follower.stdout, 2)  # the INFO line, then `first`
        assert seen[-1] == "first", seen
        assert run_of(db_url, "chatty")["status"] == "running"  # shown before the end
        gate.touch()
        rest, errors = follower.communicate(timeout=120)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == exit_codes.OK, errors
    assert (early + rest).decode().splitlines() == ["second", "[stderr] third"]
    assert errors.decode().strip().endswith("success")

    shown = run_director(db_url, "jobs", "logs", "chatty")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-3:] == ["first", "second", "[stderr] third"]


def test_jobs_logs_follow_exits_1_when_the_run_fails(sqlite_url: str, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    gated_job(sqlite_url, "broken", gate, fail=True)
    assert run_director(sqlite_url, "jobs", "run", "broken").returncode == exit_codes.JOB_FAILED

    followed = run_director(sqlite_url, "jobs", "logs", "broken", "--follow")

    assert followed.returncode == exit_codes.JOB_FAILED
    assert "second" in followed.stdout.splitlines()
    assert "error" in followed.stderr.splitlines()[-1]


def test_jobs_logs_refuses_an_unknown_job_a_job_that_never_ran_and_a_foreign_run(
    sqlite_url: str, tmp_path: Path
) -> None:
    ran_job(sqlite_url, "ran", tmp_path)
    gated_job(sqlite_url, "never", tmp_path / "never-gate")
    run_id = str(run_of(sqlite_url, "ran")["id"])

    unknown = run_director(sqlite_url, "jobs", "logs", "nosuch")
    never = run_director(sqlite_url, "jobs", "logs", "never")
    foreign = run_director(sqlite_url, "jobs", "logs", "never", "--run", run_id)

    assert unknown.returncode != 0 and "nosuch" in unknown.stderr
    assert never.returncode != 0 and "'never' has not run yet" in never.stderr
    assert foreign.returncode == exit_codes.USAGE
    assert f"run {run_id} is of job 'ran', not 'never'" in foreign.stderr


def read_lines(stream: IO[bytes], count: int, seconds: float = 120) -> tuple[list[str], bytes]:
    """`count` lines from a child's pipe, and what came after them; AssertionError when
    they do not come in time. Reads the file descriptor itself: a buffered readline
    would keep lines that already arrived where the selector cannot see them."""
    received = b""
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while received.count(b"\n") < count:
            left = deadline - time.monotonic()
            assert left > 0 and selector.select(left), f"only {received!r} within {seconds} s"
            chunk = os.read(stream.fileno(), 65536)
            assert chunk, f"the pipe closed after {received!r}"
            received += chunk
    *lines, rest = received.split(b"\n", count)
    return [line.decode() for line in lines], rest


def sse_events(lines: Iterator[str], seconds: float = 120) -> Iterator[dict[str, str]]:
    """Parse a Server-Sent Events stream into {id, event, data} dicts (comments skipped).

    The server sends a comment every 15 s on a quiet stream, so the deadline is checked
    even when no event comes.
    """
    deadline = time.monotonic() + seconds
    current: dict[str, str] = {}
    for line in lines:
        assert time.monotonic() < deadline, f"the stream gave no end within {seconds} s"
        if line == "":
            if current:
                yield current
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            current[key] = value


def test_the_api_streams_a_running_jobs_lines_then_an_end_event(
    db_url: str, tmp_path: Path, daemon: subprocess.Popen[str]
) -> None:
    gate = tmp_path / "gate"
    gated_job(db_url, "chatty", gate)
    token = make_token(db_url, "watcher", "viewer")
    server = ApiServer(db_url, tmp_path / "serve.log").start()
    try:
        assert run_director(db_url, "jobs", "trigger", "chatty").returncode == 0
        run_id = wait_for(lambda: run_of(db_url, "chatty")["id"], "a run")
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{server.url}/api/v1/runs/{run_id}/log"
        timeout = httpx.Timeout(120)
        with httpx.stream(
            "GET", url, params={"follow": "true"}, headers=headers, timeout=timeout
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = sse_events(stream.iter_lines())
            received = [next(events) for _ in range(2)]  # the INFO line, then `first`
            assert received[-1] == {"id": "2", "event": "output", "data": "first"}
            assert run_of(db_url, "chatty")["status"] == "running"
            gate.touch()
            received += list(events)
        assert [e["data"] for e in received if e["event"] == "output"][1:] == [
            "first",
            "second",
            "[stderr] third",
        ]
        end = received[-1]
        assert end["event"] == "end"
        assert json.loads(end["data"])["status"] == "success"
        assert json.loads(end["data"])["id"] == run_id

        # A follower that reconnects with the last id it saw gets only what came after.
        again = httpx.get(
            url,
            params={"follow": "true"},
            headers={**headers, "Last-Event-ID": "2"},
            timeout=timeout,
        )
        resumed = list(sse_events(iter(again.text.split("\n"))))
        assert [e.get("data") for e in resumed[:-1]] == ["second", "[stderr] third"]
        assert [e["id"] for e in resumed[:-1]] == ["3", "4"]
        assert resumed[-1]["event"] == "end"

        plain = httpx.get(url, params={"after": "3"}, headers=headers, timeout=timeout)
        assert plain.status_code == 200
        body = plain.json()
        assert (body["output"], body["first_line"], body["lines"]) == ("[stderr] third", 4, 4)
        assert body["status"] == "success"
    finally:
        server.stop()


def test_the_log_endpoint_refuses_bad_input_and_unknown_runs(
    sqlite_url: str, tmp_path: Path
) -> None:
    ran_job(sqlite_url, "ran", tmp_path)
    run_id = run_of(sqlite_url, "ran")["id"]
    token = make_token(sqlite_url, "watcher", "viewer")
    server = ApiServer(sqlite_url, tmp_path / "serve.log").start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        base = f"{server.url}/api/v1/runs"
        bad_id = httpx.get(
            f"{base}/{run_id}/log",
            params={"follow": "true"},
            headers={**headers, "Last-Event-ID": "../1"},
        )
        negative = httpx.get(f"{base}/{run_id}/log", params={"after": "-1"}, headers=headers)
        unknown = httpx.get(f"{base}/99999/log", params={"follow": "true"}, headers=headers)
        anonymous = httpx.get(f"{base}/{run_id}/log", params={"follow": "true"})
    finally:
        server.stop()
    assert bad_id.status_code == 422
    assert bad_id.json()["error"]["field"] == "Last-Event-ID"
    assert "'../1'" in bad_id.json()["error"]["message"]
    assert negative.status_code == 422
    assert negative.json()["error"]["field"] == "after"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NOT_FOUND"
    assert anonymous.status_code == 401


def test_a_dead_runners_abandoned_run_keeps_the_output_saved_while_it_ran(
    sqlite_url: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"  # never created: the job waits until its runner dies
    gated_job(sqlite_url, "orphan", gate)
    runner = subprocess.Popen(
        [*DIRECTOR, "jobs", "run", "orphan"],
        env=director_env(sqlite_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run_id = int(str(wait_for(lambda: run_of(sqlite_url, "orphan")["id"], "a run")))
        wait_for(
            lambda: "first" in logs_of(sqlite_url, "orphan"), "the first line saved while it runs"
        )
    finally:
        runner.kill()
        runner.wait(timeout=60)

    # The next runner on the host finds the run of a dead runner and closes it.
    assert run_director(sqlite_url, "jobs", "run").returncode in (0, exit_codes.JOB_FAILED)
    run = run_of(sqlite_url, "orphan")
    assert (run["id"], run["status"]) == (run_id, "abandoned")
    assert "first" in logs_of(sqlite_url, "orphan").splitlines()


def logs_of(url: str, name: str) -> str:
    """What `jobs logs NAME` prints now ('' when it fails)."""
    shown = run_director(url, "jobs", "logs", name)
    return shown.stdout if shown.returncode == 0 else ""


def test_jobs_logs_follow_waits_for_the_run_just_triggered_not_the_last_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    ran_job(sqlite_url, "again", tmp_path)
    assert run_director(sqlite_url, "jobs", "trigger", "again").returncode == 0
    follower = subprocess.Popen(
        [*DIRECTOR, "jobs", "logs", "again", "--follow"],
        env=director_env(sqlite_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert run_director(sqlite_url, "jobs", "run").returncode == 0  # starts the queued one
        out, errors = follower.communicate(timeout=120)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == exit_codes.OK, errors
    assert errors.decode().strip().endswith("run 2 of again: success")
    assert out.decode().splitlines()[-3:] == ["first", "second", "[stderr] third"]


def test_jobs_logs_shows_a_queued_run_before_the_newest_finished_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    ran_job(sqlite_url, "again", tmp_path)
    database = Database.open(sqlite_url)
    service = RunService(database, SystemClock())
    try:
        assert service.run_to_show("again").id == 1
        assert run_director(sqlite_url, "jobs", "trigger", "again").returncode == 0
        queued = service.run_to_show("again")
        assert (queued.id, queued.status.value) == (2, "pending")
    finally:
        database.dispose()


def test_runs_stored_before_the_line_count_still_show_their_output() -> None:
    stored = stored_lines("old one\nold two", 0)  # output_lines is 0 before migration 0009
    assert (stored.first, stored.lines) == (1, ["old one", "old two"])
    assert stored_lines("", 0).lines == []


def test_a_secret_that_spans_lines_is_scrubbed_before_the_text_is_split() -> None:
    key = "-----BEGIN KEY-----\nc2VjcmV0LWtleQ==\n-----END KEY-----"
    tail = OutputTail(scrub=Scrubber([key]))
    tail.append(f"Traceback: bad key {key} given")
    text, _ = tail.snapshot()
    assert "c2VjcmV0LWtleQ==" not in text
    assert "***" in text
