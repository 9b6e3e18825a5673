"""Benchmarks of the core runner (issue 2): start-up, an idle pass, and run throughput.

Run: .venv/bin/python bench/bench_runner.py [--rounds N]
Prints a Markdown table; figures are medians over the rounds, measured side by side.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import seed_jobs

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.job_types.registry import Registry
from director_jobs.runner import PassReport, Runner

PYTHON = sys.executable


def seed(url: str, count: int, due: bool) -> Database:
    """`count` self-check jobs, due now or in a day."""
    now = datetime.now(UTC)
    return seed_jobs(url, [now - timedelta(seconds=1) if due else now + timedelta(days=1)] * count)


def wall(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one process, in seconds."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_startup(folder: Path, rounds: int) -> tuple[float, float]:
    """Median wall time of `director jobs run` (1,000 jobs, none due) vs `import sqlalchemy.orm`."""
    url = f"sqlite:///{folder / 'startup.db'}"
    seed(url, 1000, due=False).dispose()
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": url}
    director = [PYTHON, "-m", "director_jobs", "jobs", "run"]
    baseline = [PYTHON, "-c", "import sqlalchemy.orm"]
    wall(director, env), wall(baseline, env)  # warm the page cache
    ours, theirs = [], []
    for _ in range(rounds):  # alternate, so that noise hits both alike
        ours.append(wall(director, env))
        theirs.append(wall(baseline, env))
    return statistics.median(ours), statistics.median(theirs)


def bench_idle_pass(folder: Path, count: int, rounds: int) -> float:
    """Median seconds of Runner.run_once() over `count` jobs, none due."""
    database = seed(f"sqlite:///{folder / f'idle-{count}.db'}", count, due=False)
    runner = Runner(database, Registry(), SystemClock(), default_timezone="UTC")
    runner.run_once()  # warm caches and the connection pool
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        runner.run_once()
        times.append(time.perf_counter() - start)
    database.dispose()
    return statistics.median(times)


def bench_throughput(folder: Path, count: int, rounds: int) -> float:
    """Median runs per second of one pass over `count` due self-check jobs (history written)."""
    rates = []
    for r in range(rounds):
        database = seed(f"sqlite:///{folder / f'due-{r}.db'}", count, due=True)
        runner = Runner(database, Registry(), SystemClock(), default_timezone="UTC")
        report = PassReport()
        start = time.perf_counter()
        runner.run_once(report)
        elapsed = time.perf_counter() - start
        assert len(report.statuses) == count and report.failed == 0
        rates.append(count / elapsed)
        database.dispose()
    return statistics.median(rates)


def main() -> None:
    """Run all three and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    # As `director jobs run` logs by default (WARNING: self-check writes 2 lines a run),
    # but into /dev/null so that the terminal does not set the pace.
    logging.basicConfig(stream=open(os.devnull, "w"), level=logging.WARNING)  # noqa: SIM115
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours, baseline = bench_startup(folder, args.rounds)
        idle_1k = bench_idle_pass(folder, 1_000, args.rounds * 5)
        idle_100k = bench_idle_pass(folder, 100_000, args.rounds * 5)
        rate = bench_throughput(folder, 1_000, 3)
    startup_ok = ours <= baseline + 0.150
    idle_ok = idle_100k <= 0.010 and idle_100k <= 2 * idle_1k
    rows = [
        (
            "`director jobs run`, 1,000 jobs, none due (SQLite)",
            f"{ours * 1000:.0f} ms",
            f"≤ import sqlalchemy.orm + 150 ms = {baseline * 1000 + 150:.0f} ms",
            startup_ok,
        ),
        ("`python -c 'import sqlalchemy.orm'` (same run)", f"{baseline * 1000:.0f} ms", "", None),
        ("idle pass, 1,000 definitions", f"{idle_1k * 1000:.2f} ms", "", None),
        (
            "idle pass, 100,000 definitions",
            f"{idle_100k * 1000:.2f} ms",
            f"≤ 10 ms and ≤ 2× the 1,000 pass ({idle_100k / idle_1k:.2f}×)",
            idle_ok,
        ),
        ("1,000 due self-check jobs, one pass", f"{rate:.0f} runs/s", "≥ 200 runs/s", rate >= 200),
    ]
    print("| measurement | median | target | verdict |")
    print("| --- | --- | --- | --- |")
    for label, value, target, ok in rows:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"| {label} | {value} | {target} | {verdict} |")


if __name__ == "__main__":
    main()
