"""Benchmarks of forever mode (issue 4): start latency, idle cost, isolation overhead, memory.

Run: .venv/bin/python bench/bench_daemon.py [--idle-seconds 60] [--memory-runs 5000]
Prints a Markdown table. The daemon runs as a real `python -m director_jobs` process.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from common import print_table, seed_jobs
from sqlalchemy import event, select

from director_jobs.clock import SystemClock
from director_jobs.daemon import Daemon, DaemonOptions
from director_jobs.db.database import Database
from director_jobs.db.schema import runs
from director_jobs.execution.isolation import Isolation
from director_jobs.job_types.registry import Registry
from director_jobs.runner import PassReport, Runner


def start_daemon(url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": url}
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.Popen(
        [sys.executable, "-m", "director_jobs", "jobs", "run", "--forever", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=60)


def start_latency(folder: Path) -> tuple[float, float, int]:
    """200 jobs due at known instants 50 ms apart: delay from due instant to start (p50, p99)."""
    url = f"sqlite:///{folder / 'latency.db'}"
    first = datetime.now(UTC) + timedelta(seconds=5)
    seed_jobs(url, [first + timedelta(milliseconds=50 * i) for i in range(200)]).dispose()
    daemon = start_daemon(url)
    time.sleep(5 + 200 * 0.05 + 3)
    stop(daemon)
    database = Database(url)
    with database.engine.connect() as connection:
        rows = connection.execute(select(runs.c.scheduled_for, runs.c.started_at)).all()
    database.dispose()
    delays = sorted((r.started_at - r.scheduled_for).total_seconds() for r in rows)
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    return statistics.median(delays), p99, len(delays)


def trigger_latency(folder: Path, count: int) -> tuple[float, float, float]:
    """`count` manual triggers of idle jobs, unevenly spaced: trigger → start (p50, p99, max).

    Each trigger is the UPDATE `director jobs trigger` makes (JobsRepo.request_run), timed
    here because a manual run records no due instant; the spacing (0.3 s to 2.9 s) lands
    triggers at every phase of the daemon's due check (every 1.5 s).
    """
    url = f"sqlite:///{folder / 'trigger.db'}"
    seed_jobs(url, [datetime.now(UTC) + timedelta(days=1)] * 1000).dispose()
    daemon = start_daemon(url)
    time.sleep(3)  # started and idle
    database = Database(url)
    triggered: dict[str, datetime] = {}
    for number in range(count):
        name = f"job-{number:06d}"
        triggered[name] = datetime.now(UTC)
        with database.engine.begin() as connection:
            database.jobs.request_run(connection, name, triggered[name])
        time.sleep(0.3 + (number * 0.7) % 2.6)
    time.sleep(3)
    stop(daemon)
    with database.engine.connect() as connection:
        rows = connection.execute(select(runs.c.job_name, runs.c.started_at)).all()
    database.dispose()
    delays = sorted((r.started_at - triggered[r.job_name]).total_seconds() for r in rows)
    assert len(delays) == count, f"{len(delays)} of {count} triggered jobs started"
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    return statistics.median(delays), p99, delays[-1]


def idle_cpu(folder: Path, seconds: float) -> float:
    """CPU share of a daemon with 1,000 jobs none of which is due, over `seconds`."""
    url = f"sqlite:///{folder / 'idle.db'}"
    seed_jobs(url, [datetime.now(UTC) + timedelta(days=1)] * 1000).dispose()
    daemon = start_daemon(url)
    time.sleep(3)  # start-up and imports are not idling
    process = psutil.Process(daemon.pid)
    before = process.cpu_times()
    time.sleep(seconds)
    after = process.cpu_times()
    stop(daemon)
    used = (after.user - before.user) + (after.system - before.system)
    return used / seconds


def idle_queries(folder: Path, seconds: float) -> dict[str, int]:
    """Statements an in-process daemon sends while idle, by their first words."""
    url = f"sqlite:///{folder / 'queries.db'}"
    seed_jobs(url, [datetime.now(UTC) + timedelta(days=1)] * 1000).dispose()
    counts: dict[str, int] = {}

    def connect() -> Runner:
        database = Database.open(url)

        @event.listens_for(database.engine, "before_cursor_execute")
        def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            key = " ".join(statement.split()[:6])
            counts[key] = counts.get(key, 0) + 1

        return Runner(database, Registry(), SystemClock(), default_timezone="UTC")

    daemon = Daemon(connect, DaemonOptions())
    threading.Timer(seconds, daemon.stop.set).start()
    daemon.run()
    return counts


def isolation_overhead(folder: Path, count: int) -> tuple[float, float]:
    """Median ms per run and runs/s for `count` due self-check jobs, each in a forked child."""
    url = f"sqlite:///{folder / 'isolation.db'}"
    database = seed_jobs(url, [datetime.now(UTC) - timedelta(seconds=1)] * count)
    runner = Runner(
        database, Registry(), SystemClock(), default_timezone="UTC", isolation=Isolation.ALWAYS
    )
    report = PassReport()
    started = time.perf_counter()
    runner.run_once(report)
    elapsed = time.perf_counter() - started
    assert report.failed == 0 and len(report.statuses) == count
    with database.engine.connect() as connection:
        starts = sorted(connection.execute(select(runs.c.started_at)).scalars())
    database.dispose()
    gaps = [(b - a).total_seconds() * 1000 for a, b in itertools.pairwise(starts)]
    return statistics.median(gaps), count / elapsed


# Runs before the RSS baseline: imports, caches and the first pages of SQLite settle first.
WARM_UP_RUNS = 100


def memory_growth(folder: Path, measured_runs: int) -> tuple[float, float, int]:
    """Daemon RSS after a warm-up, and after `measured_runs` more runs (50 jobs every second)."""
    url = f"sqlite:///{folder / 'memory.db'}"
    seed_jobs(url, [datetime.now(UTC)] * 50, interval=1.0).dispose()
    daemon = start_daemon(url, "--max-memory-growth", "0")
    process = psutil.Process(daemon.pid)
    database = Database(url)

    def run_count() -> int:
        with database.engine.connect() as connection:
            return len(connection.execute(select(runs.c.id)).all())

    while run_count() < WARM_UP_RUNS:
        time.sleep(0.5)
    baseline = process.memory_info().rss
    start = run_count()
    while run_count() < start + measured_runs:
        time.sleep(1)
    final = process.memory_info().rss
    done = run_count() - start
    stop(daemon)
    database.dispose()
    return baseline / 2**20, final / 2**20, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--memory-runs", type=int, default=5000)
    parser.add_argument("--triggers", type=int, default=40)
    args = parser.parse_args()
    logging.basicConfig(stream=open(os.devnull, "w"), level=logging.WARNING)  # noqa: SIM115
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        p50, p99, started = start_latency(folder)
        trigger_p50, trigger_p99, trigger_max = trigger_latency(folder, args.triggers)
        cpu = idle_cpu(folder, args.idle_seconds)
        queries = idle_queries(folder, args.idle_seconds)
        per_run_ms, rate = isolation_overhead(folder, 500)
        base, final, runs_done = memory_growth(folder, args.memory_runs)
    print_table(
        ("measurement", "value", "target"),
        [
            (
                f"start latency, 200 jobs due 50 ms apart ({started} started): p50 / p99",
                f"{p50 * 1000:.1f} / {p99 * 1000:.1f} ms",
                "p99 ≤ 50 ms",
            ),
            (
                f"`jobs trigger` → start, {args.triggers} triggers, 1,000 idle jobs: "
                "p50 / p99 / max",
                f"{trigger_p50 * 1000:.0f} / {trigger_p99 * 1000:.0f} / "
                f"{trigger_max * 1000:.0f} ms",
                "within 2 s",
            ),
            (
                f"idle CPU, 1,000 jobs none due, {args.idle_seconds:.0f} s",
                f"{cpu * 100:.2f} %",
                "≤ 0.5 %",
            ),
            (
                f"statements while idle for {args.idle_seconds:.0f} s (in-process daemon)",
                f"{sum(queries.values())}: {queries}",
                "only the due check (every 1.5 s)",
            ),
            (
                "per-run overhead, self-check in a forked child, history written",
                f"{per_run_ms:.1f} ms median, {rate:.0f} runs/s",
                "≤ 25 ms, ≥ 40 runs/s",
            ),
            (
                f"daemon RSS after {WARM_UP_RUNS} warm-up runs → after {runs_done} more runs",
                f"{base:.1f} → {final:.1f} MiB (+{final - base:.1f})",
                "growth ≤ 5 MiB",
            ),
        ],
    )


if __name__ == "__main__":
    main()
