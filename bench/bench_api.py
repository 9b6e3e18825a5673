"""Benchmarks of the HTTP API and wake-ups (issue 10), side by side in one run.

Run: .venv/bin/python bench/bench_api.py [--triggers 50] [--baseline a0629ec] [--skip-triggers]
(the baseline daemon must understand the checkout's schema: run the trigger rows from a
checkout whose newest migration the baseline has, as docs/benchmarks.md says)

* trigger → start: a real `jobs run --forever` daemon waits with 200 idle jobs; each
  trigger goes through `JobService.trigger` (what `director jobs trigger` calls, without
  the CLI's own start-up) or `POST /api/v1/jobs/{name}/trigger` of a real `director
  serve`. The delay is the run's `started_at` minus the trigger instant the trigger wrote
  (the job's new `next_due_at`). The same triggers against a daemon of the baseline commit
  (before wake-ups: it only looks every 1.5 s), alternating, on SQLite and PostgreSQL.
* `GET /api/v1/jobs` with 1,000 jobs and 100,000 runs, and the idle RSS of `serve`.
PostgreSQL is a throwaway server started like the tests start theirs (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
from common import print_table, seed_jobs
from sqlalchemy import insert, select

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.db.schema import runs
from director_jobs.job_types.registry import Registry
from director_jobs.services.jobs import JobService
from director_jobs.services.tokens import TokenService

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from api_server import ApiServer  # noqa: E402
from conftest import PostgresServer  # noqa: E402

FAR = datetime(2099, 1, 1, tzinfo=UTC)  # idle jobs: never due by their schedule here


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def daemon(url: str, source: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`jobs run --forever` of the code in `source` (this checkout or the baseline's)."""
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": url, "PYTHONPATH": str(source)}
    env.pop("NOTIFY_SOCKET", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "director_jobs", "jobs", "run", "--forever"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=source,
    )
    time.sleep(3)  # registered, first look done, dozing
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


def started_at(database: Database, name: str, after: datetime) -> datetime:
    """When the run of `name` that the trigger at `after` caused started (waits for it)."""
    query = select(runs.c.started_at).where(runs.c.job_name == name, runs.c.started_at >= after)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with database.engine.connect() as connection:
            found = connection.execute(query).scalar()
        if found is not None:
            return found  # type: ignore[no-any-return]
        time.sleep(0.005)
    raise AssertionError(f"{name} did not start within 30 s of its trigger")


def trigger_delays(url: str, how: str, names: list[str], api_url: str, token: str) -> list[float]:
    """Trigger each job in turn (unevenly spaced) and return trigger → start in seconds."""
    database = Database.open(url)
    service = JobService(database, Registry(), SystemClock(), "UTC")
    delays = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for name in names:
            time.sleep(random.uniform(0.05, 0.4))  # land at every phase of the 1.5 s look
            if how == "api":
                response = client.post(f"{api_url}/api/v1/jobs/{name}/trigger")
                asked = datetime.fromisoformat(response.json()["job"]["next_due"])
            else:
                job = service.trigger(name).job
                assert job.next_due_at is not None
                asked = job.next_due_at
            delays.append((started_at(database, name, asked) - asked).total_seconds())
    database.dispose()
    return delays


def trigger_latency(
    url: str, folder: Path, baseline: Path, count: int
) -> dict[tuple[str, str], list[float]]:
    """Delays per (code, path): alternating baseline and current daemons, 2 paths each."""
    seed_jobs(url, [FAR] * 200).dispose()
    token = TokenService(Database.open(url), SystemClock()).add(
        f"bench{random.randrange(10**9)}", "operator", None, "bench"
    )
    server = ApiServer(url, folder / f"serve-{random.randrange(10**9)}.log").start()
    results: dict[tuple[str, str], list[float]] = {}
    pool = iter(f"job-{i:06d}" for i in range(200))
    try:
        for _ in range(2):  # baseline, now, baseline, now: the machine's mood hits both
            for code, source in (("baseline", baseline), ("now", REPO)):
                with daemon(url, source):
                    for how in ("jobs trigger", "api"):
                        names = [next(pool) for _ in range(count // 2)]
                        delays = trigger_delays(url, how, names, server.url, token)
                        results.setdefault((code, how), []).extend(delays)
    finally:
        server.stop()
    return results


def seed_history(url: str, jobs: int, total_runs: int) -> None:
    """`jobs` idle jobs and `total_runs` finished runs spread over them."""
    database = seed_jobs(url, [FAR] * jobs)
    start = datetime.now(UTC) - timedelta(days=30)
    rows = []
    for i in range(total_runs):
        began = start + timedelta(seconds=20 * i)
        rows.append(
            {
                "job_name": f"job-{i % jobs:06d}",
                "job_type": "self-check",
                "status": "error" if i % 17 == 0 else "success",
                "trigger": "schedule",
                "attempt": 1,
                "started_at": began,
                "finished_at": began + timedelta(seconds=2),
                "duration_seconds": 2.0,
                "output": "",
            }
        )
    with database.engine.begin() as connection:
        for first in range(0, len(rows), 5000):
            connection.execute(insert(runs), rows[first : first + 5000])
    database.dispose()


def list_jobs(url: str, folder: Path, requests: int) -> tuple[float, float, float]:
    """GET /api/v1/jobs over 1,000 jobs / 100,000 runs: median and p95 ms, serve's idle RSS."""
    seed_history(url, 1000, 100_000)
    token = TokenService(Database.open(url), SystemClock()).add("lister", "viewer", None, "b")
    server = ApiServer(url, folder / "serve-list.log").start()
    assert server.process is not None
    try:
        time.sleep(2)
        idle_rss = psutil.Process(server.process.pid).memory_info().rss / 2**20
        times = []
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            for _ in range(requests):
                began = time.perf_counter()
                response = client.get(f"{server.url}/api/v1/jobs")
                times.append(time.perf_counter() - began)
                assert response.status_code == 200 and len(response.json()["jobs"]) == 1000
    finally:
        server.stop()
    return statistics.median(times) * 1000, percentile(times, 0.95) * 1000, idle_rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--triggers", type=int, default=50, help="per backend, path and code")
    parser.add_argument("--baseline", default="a0629ec", help="the commit before wake-ups")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--skip-triggers",
        action="store_true",
        help="only GET /jobs and RSS (the trigger rows need a baseline of the same schema)",
    )
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        baseline = folder / "baseline"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(baseline),
             args.baseline],
            check=True,
        )  # fmt: skip
        postgres = PostgresServer()
        postgres.start()
        try:
            backends = {"SQLite": f"sqlite:///{folder / 'trigger.db'}",
                        "PostgreSQL": postgres.new_database()}  # fmt: skip
            for backend, url in backends.items() if not args.skip_triggers else ():
                found = trigger_latency(url, folder, baseline, args.triggers)
                for how in ("jobs trigger", "api"):
                    now, before = found[("now", how)], found[("baseline", how)]
                    rows.append(
                        (
                            f"{backend}: {how} → start (n={len(now)} each)",
                            f"{statistics.median(now) * 1000:.1f} / "
                            f"{percentile(now, 0.99) * 1000:.1f} / {max(now) * 1000:.1f} ms",
                            f"{statistics.median(before) * 1000:.0f} / "
                            f"{percentile(before, 0.99) * 1000:.0f} / {max(before) * 1000:.0f} ms",
                            f"{statistics.median(before) / statistics.median(now):.0f}×",
                        )
                    )
            for backend, url in (("SQLite", f"sqlite:///{folder / 'list.db'}"),
                                 ("PostgreSQL", postgres.new_database())):  # fmt: skip
                median, p95, rss = list_jobs(url, folder, args.requests)
                rows.append(
                    (
                        f"{backend}: GET /api/v1/jobs, 1,000 jobs, 100,000 runs "
                        f"(median / p95 of {args.requests})",
                        f"{median:.1f} / {p95:.1f} ms",
                        "",
                        "",
                    )
                )
                rows.append(
                    (f"{backend}: RSS of an idle `director serve`", f"{rss:.1f} MiB", "", "")
                )
        finally:
            postgres.stop()
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)],
                check=False,
            )
    print_table(("measurement", "now: p50 / p99 / max", "baseline (polling)", "ratio of p50"), rows)


if __name__ == "__main__":
    main()
