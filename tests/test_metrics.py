"""Prometheus metrics as a scraper and node_exporter see them: `director metrics` and
GET /metrics of a real `director serve`, over SQLite and PostgreSQL, after real runs;
counters that survive housekeeping; the textfile written atomically; bad paths and tokens."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import DIRECTOR, director_env, invoke, run_director, wait_for
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, insert, select
from test_defaults import clean_env, in_private_mounts

from director_jobs import exit_codes
from director_jobs.db.database import Database
from director_jobs.db.metrics_repo import (
    DURATION_BUCKETS,
    FINAL_STATUSES,
    MetricsRepository,
    bucket_of,
)
from director_jobs.db.retention import Policy, purge
from director_jobs.db.schema import runs

FAILING = json.dumps({"command": ["sh", "-c", "exit 1"]})
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; KeyError naming it when it is not there."""
    return samples[(name, frozenset(labels.items()))]


def scrape(url: str) -> Samples:
    """`director metrics` as a real child process, parsed."""
    result = run_director(url, "metrics")
    assert result.returncode == 0, result.stderr
    return parse(result.stdout)


def ok(url: str, *args: str) -> str:
    """A command that must work, run in-process (the runs and scrapes are real children)."""
    result = invoke(url, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def run_jobs(url: str, *names: str) -> None:
    """`jobs run NAMES` from a shell; a failing job makes it exit 1."""
    result = run_director(url, "jobs", "run", *names, timeout=120)
    assert result.returncode in (0, 1), result.stderr


def history(url: str, job: str) -> list[dict[str, Any]]:
    return list(json.loads(ok(url, "jobs", "history", job, "--json", "--limit", "1000")))


def counts_and_histograms(samples: Samples) -> Samples:
    """The samples that only runs change (not ages, not the queue)."""
    return {
        key: v
        for key, v in samples.items()
        if key[0].startswith(("director_jobs_runs_total", "director_jobs_run_duration_seconds"))
    }


def check_histogram(samples: Samples, job: str, durations: list[float]) -> None:
    """The job's histogram holds exactly these durations: buckets, count and sum."""
    for bound in DURATION_BUCKETS:
        expected = sum(1 for d in durations if d <= bound)
        assert value(samples, "director_jobs_run_duration_seconds_bucket",
                     job=job, le=repr(float(bound))) == expected  # fmt: skip
    assert value(samples, "director_jobs_run_duration_seconds_bucket",
                 job=job, le="+Inf") == len(durations)  # fmt: skip
    assert value(samples, "director_jobs_run_duration_seconds_count", job=job) == len(durations)
    assert value(samples, "director_jobs_run_duration_seconds_sum", job=job) == pytest.approx(
        sum(durations), abs=1e-9
    )


# -- what the metrics say --------------------------------------------------------------------


def test_runs_durations_and_last_success_follow_real_runs(db_url: str) -> None:
    ok(db_url, "jobs", "add", "fine", "--type", "self-check", "--interval", "1h")
    ok(db_url, "jobs", "add", "broken", "--type", "command", "--interval", "1h",
       "--parameters", FAILING)  # fmt: skip
    before = scrape(db_url)
    for status in FINAL_STATUSES:  # every series is there from the start, at 0
        assert value(before, "director_jobs_runs_total", job="broken", status=status) == 0
    assert ("director_jobs_last_success_timestamp_seconds", frozenset({("job", "fine")})) not in (
        before
    )  # never succeeded: no timestamp (a 0 would look like 56 years of failure)

    run_jobs(db_url, "fine", "broken")
    run_jobs(db_url, "fine", "broken")
    run_jobs(db_url, "fine")
    samples = scrape(db_url)

    assert value(samples, "director_jobs_runs_total", job="fine", status="success") == 3
    assert value(samples, "director_jobs_runs_total", job="fine", status="error") == 0
    assert value(samples, "director_jobs_runs_total", job="broken", status="error") == 2
    assert value(samples, "director_jobs_runs_total", job="broken", status="success") == 0
    for job in ("fine", "broken"):
        check_histogram(samples, job, [r["duration"] for r in history(db_url, job)])
    newest = max(datetime.fromisoformat(r["finished_at"]) for r in history(db_url, "fine"))
    assert value(samples, "director_jobs_last_success_timestamp_seconds", job="fine") == (
        pytest.approx(newest.timestamp(), abs=1e-5)
    )
    assert ("director_jobs_last_success_timestamp_seconds", frozenset({("job", "broken")})) not in (
        samples
    )
    assert value(samples, "director_jobs_running_jobs") == 0
    assert value(samples, "director_jobs_queue_depth") == 0  # both ran: due in an hour
    assert value(samples, "director_jobs_overdue_jobs") == 0


def test_queue_depth_and_overdue_agree_with_the_health_check(sqlite_url: str) -> None:
    ok(sqlite_url, "jobs", "add", "hourly", "--type", "self-check", "--interval", "1h")
    ok(sqlite_url, "jobs", "add", "late", "--type", "self-check", "--interval", "1s")
    ok(sqlite_url, "jobs", "add", "off", "--type", "self-check", "--interval", "1s", "--disabled")
    assert value(scrape(sqlite_url), "director_jobs_queue_depth") == 2  # new jobs are due now
    run_jobs(sqlite_url, "hourly", "late")
    ok(sqlite_url, "jobs", "trigger", "hourly")  # queued although due in an hour

    samples = wait_for(
        lambda: (s := scrape(sqlite_url))[("director_jobs_overdue_jobs", frozenset())] == 1 and s,
        "the 1-second job to be two intervals late",
    )
    assert value(samples, "director_jobs_queue_depth") == 2  # late, and the triggered one
    check = run_director(sqlite_url, "health", "check", "--check", "jobs")
    assert "overdue=1" in check.stdout.splitlines()[0], check.stdout
    assert "job late: overdue" in check.stdout


def test_a_daemon_shows_its_heartbeat_and_the_job_it_runs(sqlite_url: str, tmp_path: Path) -> None:
    release = tmp_path / "release"
    waits = {"command": ["sh", "-c", f"while [ ! -e {release} ]; do sleep 0.1; done"]}
    ok(sqlite_url, "jobs", "add", "slow", "--type", "command", "--interval", "1h",
       "--parameters", json.dumps(waits))  # fmt: skip
    with (tmp_path / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen([*DIRECTOR, "jobs", "run", "--forever"],
                                  env=director_env(sqlite_url), stdout=log, stderr=log)  # fmt: skip
    try:
        busy = wait_for(
            lambda: (
                (s := scrape(sqlite_url))[("director_jobs_running_jobs", frozenset())] == 1 and s
            ),
            "the daemon to run the job",
        )
        [(name, labels)] = [k for k in busy if k[0] == "director_jobs_runner_heartbeat_age_seconds"]
        runner = dict(labels)
        assert runner["mode"] == "forever" and runner["runner"].endswith(f":{daemon.pid}")
        assert busy[(name, labels)] >= 0
        assert value(busy, "director_jobs_queue_depth") == 0  # running is not waiting
        release.touch()
        done = wait_for(
            lambda: (
                (s := scrape(sqlite_url))[("director_jobs_running_jobs", frozenset())] == 0 and s
            ),
            "the job to end",
        )
        assert value(done, "director_jobs_runs_total", job="slow", status="success") == 1
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    stopped = scrape(sqlite_url)  # a runner that stopped cleanly has no heartbeat to age
    assert not [k for k in stopped if k[0] == "director_jobs_runner_heartbeat_age_seconds"]


# -- counters that never go down --------------------------------------------------------------


def test_counters_and_histogram_survive_housekeeping(db_url: str) -> None:
    ok(db_url, "jobs", "add", "fine", "--type", "self-check", "--interval", "1h")
    ok(db_url, "jobs", "add", "broken", "--type", "command", "--interval", "1h",
       "--parameters", FAILING)  # fmt: skip
    ok(db_url, "jobs", "add", "tidy", "--type", "housekeeping", "--interval", "1d",
       "--parameters", json.dumps({"keep_runs_per_job": 1, "vacuum": False}))  # fmt: skip
    for _ in range(3):
        run_jobs(db_url, "fine", "broken")
    durations = {job: [r["duration"] for r in history(db_url, job)] for job in ("fine", "broken")}
    before = counts_and_histograms(scrape(db_url))
    last_success = value(scrape(db_url), "director_jobs_last_success_timestamp_seconds", job="fine")

    run_jobs(db_url, "tidy")
    assert len(history(db_url, "fine")) == 1 and len(history(db_url, "broken")) == 1
    after = scrape(db_url)
    for key, counted in before.items():  # the same, whatever housekeeping deleted
        if ("job", "tidy") in key[1]:
            continue  # its own run is new
        assert after[key] == pytest.approx(counted, abs=1e-9), key
    assert value(after, "director_jobs_runs_total", job="fine", status="success") == 3
    assert value(after, "director_jobs_runs_total", job="broken", status="error") == 3
    for job, seen in durations.items():
        check_histogram(after, job, seen)
    assert value(after, "director_jobs_last_success_timestamp_seconds", job="fine") == last_success
    assert value(after, "director_jobs_runs_total", job="tidy", status="success") == 1

    # More runs, and a second pass that adds to the totals kept already.
    run_jobs(db_url, "fine", "broken")
    durations = {
        job: [*seen, history(db_url, job)[0]["duration"]] for job, seen in durations.items()
    }
    run_jobs(db_url, "tidy")
    again = scrape(db_url)
    assert value(again, "director_jobs_runs_total", job="fine", status="success") == 4
    assert value(again, "director_jobs_runs_total", job="broken", status="error") == 4
    assert value(again, "director_jobs_runs_total", job="tidy", status="success") == 2
    for job, seen in durations.items():
        check_histogram(again, job, seen)
    for key, count in counts_and_histograms(after).items():
        assert again[key] >= count - 1e-9, key  # nothing went down


def test_concurrent_housekeeping_passes_count_each_deleted_run_once(database: Database) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    durations = [0.2 * i for i in range(1, 61)]  # 0.2 s … 12 s: spread over the buckets
    with database.engine.begin() as connection:
        connection.execute(
            insert(runs),
            [
                {"job_name": "busy", "job_type": "self-check", "status": "success",
                 "trigger": "schedule", "attempt": 1, "started_at": now - timedelta(days=60),
                 "finished_at": now - timedelta(days=60) + timedelta(seconds=d),
                 "duration_seconds": d, "output": ""}
                for d in durations
            ],
        )  # fmt: skip
    errors: list[BaseException] = []

    def tidy() -> None:
        try:
            purge(database.engine, Policy(keep_runs_days=30), now)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    passes = [threading.Thread(target=tidy) for _ in range(4)]
    for thread in passes:
        thread.start()
    for thread in passes:
        thread.join()
    assert errors == []
    with database.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(runs)).scalar() == 0
    totals = MetricsRepository(database.engine).run_totals()
    assert set(totals) == {("busy", "success")}
    busy = totals["busy", "success"]
    assert (busy.runs, busy.timed) == (60, 60)
    assert busy.duration_sum == pytest.approx(sum(durations))
    assert busy.buckets == [sum(1 for d in durations if bucket_of(d) == i)
                            for i in range(len(DURATION_BUCKETS) + 1)]  # fmt: skip
    assert busy.last_finished_at == now - timedelta(days=60) + timedelta(seconds=12)


# -- over HTTP --------------------------------------------------------------------------------


def test_serve_answers_metrics_like_the_cli_and_refuses_bad_tokens(
    db_url: str, tmp_path: Path
) -> None:
    ok(db_url, "jobs", "add", "fine", "--type", "self-check", "--interval", "1h")
    ok(db_url, "jobs", "add", "broken", "--type", "command", "--interval", "1h",
       "--parameters", FAILING)  # fmt: skip
    run_jobs(db_url, "fine", "broken")
    good = make_token(db_url, "prometheus", "viewer")
    revoked = make_token(db_url, "old", "viewer")
    # Behind a proxy that adds /director and strips it again: /metrics all the same.
    server = ApiServer(db_url, tmp_path / "serve.log", "--root-path", "/director").start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            bare = client.get("/metrics")
            with_token = client.get("/metrics", headers={"Authorization": f"Bearer {good}"})
            assert client.get("/metrics", headers={"Authorization": f"Bearer {revoked}"}).is_success
            ok(db_url, "tokens", "revoke", "old")
            refused = client.get("/metrics", headers={"Authorization": f"Bearer {revoked}"})
            unknown = client.get("/metrics", headers={"Authorization": "Bearer djt_" + "x" * 43})
            under_api = client.get("/api/v1/metrics")
    finally:
        server.stop()
    assert bare.status_code == 200, bare.text
    assert bare.headers["content-type"].startswith("text/plain; version=0.0.4")
    served = parse(bare.text)
    assert counts_and_histograms(served) == counts_and_histograms(scrape(db_url))
    assert value(served, "director_jobs_runs_total", job="broken", status="error") == 1
    assert value(served, "director_jobs_runs_total", job="fine", status="success") == 1
    assert with_token.status_code == 200
    assert counts_and_histograms(parse(with_token.text)) == counts_and_histograms(served)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "UNAUTHORIZED"
    assert "was revoked" in refused.json()["error"]["message"]
    assert refused.headers["www-authenticate"] == "Bearer"
    assert unknown.status_code == 401
    assert under_api.status_code == 404
    assert good not in server.log() and revoked not in server.log()


# -- the textfile for node_exporter -----------------------------------------------------------


def test_the_textfile_is_replaced_atomically_and_readable_by_others(
    db_url: str, tmp_path: Path
) -> None:
    ok(db_url, "jobs", "add", "fine", "--type", "self-check", "--interval", "1h")
    folder = tmp_path / "textfile_collector"
    folder.mkdir()
    target = folder / "director_jobs.prom"
    env = {**director_env(db_url), "COLUMNS": ""}

    def write() -> None:
        # As a service with UMask=0077 would: the file must still be readable by
        # node_exporter's user.
        command = " ".join([*DIRECTOR, "metrics", "--textfile", str(target)])
        result = subprocess.run(["sh", "-c", f"umask 077; exec {command}"], env=env,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 0 and result.stdout == "", result.stderr

    write()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    first = parse(target.read_text())
    assert value(first, "director_jobs_runs_total", job="fine", status="success") == 0
    with target.open() as old:  # a reader that has the old file open...
        run_jobs(db_url, "fine")
        write()
        # ...still reads the old file whole: the new one was renamed over it, not rewritten.
        assert value(parse(old.read()), "director_jobs_runs_total", job="fine",
                     status="success") == 0  # fmt: skip
    assert value(parse(target.read_text()), "director_jobs_runs_total", job="fine",
                 status="success") == 1  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == ["director_jobs.prom"]  # no leftovers


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing/director_jobs.prom", "folder '{tmp}/missing' does not exist"),
        ("director_jobs.txt", "node_exporter's textfile collector reads only *.prom files"),
        ("folder.prom", "a folder, not a file"),
    ],
)
def test_a_bad_textfile_path_is_a_usage_error_naming_it(
    sqlite_url: str, tmp_path: Path, path: str, message: str
) -> None:
    (tmp_path / "folder.prom").mkdir()
    wanted = str(tmp_path / path)
    result = run_director(sqlite_url, "metrics", "--textfile", wanted)
    assert result.returncode == exit_codes.USAGE, result.stderr
    assert result.stderr.splitlines() == [
        f"director: error: --textfile: invalid value {wanted!r}: " + message.format(tmp=tmp_path)
    ]


def test_an_unwritable_textfile_folder_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "collector"
    folder.mkdir()
    database = f"sqlite:///{tmp_path / 'jobs.db'}"
    assert invoke(database, "jobs", "list").exit_code == 0  # created and migrated
    script = f"""
        mount --bind {folder} {folder}
        mount -o remount,bind,ro {folder}
        $DIRECTOR metrics --textfile {folder}/director_jobs.prom
    """
    result = in_private_mounts(script, clean_env(DIRECTOR_JOBS_DATABASE_URL=database))
    assert result.returncode == exit_codes.USAGE, result.stderr
    assert result.stderr.splitlines() == [
        f"director: error: --textfile: invalid value '{folder}/director_jobs.prom': "
        f"cannot write in '{folder}': Read-only file system"
    ]
    assert list(folder.iterdir()) == []


# -- what the runner never loads ---------------------------------------------------------------


def test_the_runner_and_its_housekeeping_never_load_the_metrics_or_web_stack(
    sqlite_url: str,
) -> None:
    ok(sqlite_url, "jobs", "add", "tidy", "--type", "housekeeping", "--interval", "1d")
    code = (
        "import sys, runpy; sys.argv = ['director', 'jobs', 'run'];\n"
        "try:\n    runpy.run_module('director_jobs', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    import director_jobs.db.retention, director_jobs.job_types.housekeeping\n"
        "    loaded = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'prometheus_client', 'fastapi', 'starlette', 'director_jobs'})\n"
        "    print(loaded, exit.code, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"DIRECTOR_JOBS_DATABASE_URL": sqlite_url, "TZ": "UTC", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stderr.strip().splitlines()[-1] == "['director_jobs'] 0", result.stderr
    assert json.loads(ok(sqlite_url, "jobs", "history", "tidy", "--json"))[0]["status"] == (
        "success"
    )
