"""What the operator web page costs (issue 11), beside the API's job list, in one run.

Run: .venv/bin/python bench/bench_web.py [--rounds 30] [--browser-rounds 10]
     [--database sqlite|postgresql|both] [--skip-browser]

A real `director serve` (tests/api_server.py) over 1,000 jobs and 100,000 finished runs
(100 per job; one in 17 runs an error, one in 101 a timeout, so about 60 jobs' last run
failed; tags on two jobs in three, a description on every fourth, every 50th disabled).

* Server render: HTTP time of `GET /` (the dashboard: every job a row) and of
  `GET /jobs/{name}` (one job with its 100-run chart, 20 history rows, 5 next starts),
  `Authorization: Bearer` and `Accept: text/html`, against the API's `GET /api/v1/jobs`
  (the JSON of the same 1,000 jobs) on the same server and database; the three requests
  alternate, `--rounds` times each, over one keep-alive connection (httpx), after two
  warm-up rounds. Targets: ≤ 100 ms median for both pages.
* Page complete in a browser: Debian's Chromium (headless, through Selenium and
  /usr/bin/chromedriver) logs in once on /login with the token, then loads `/` and the
  job page in turn, `--browser-rounds` times each (one warm-up round first, not counted);
  the figure is the navigation timing's `loadEventEnd` (ms from the navigation's start).
  Target: ≤ 1 s for the dashboard.
PostgreSQL is a throwaway server started like the tests start theirs (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from common import print_table, seed_jobs
from sqlalchemy import bindparam, insert, select, update

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.db.schema import jobs, runs
from director_jobs.services.tokens import TokenService

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from api_server import ApiServer  # noqa: E402
from conftest import PostgresServer  # noqa: E402

JOBS = 1000
RUNS = 100_000
PAGE_JOB = "job-000042"  # the job page's job: 100 runs, tags, a description
TARGET_RENDER_MS = 100.0
TARGET_BROWSER_MS = 1000.0
TAG_SETS = (["nightly"], ["team-ops", "backup"], [])  # job i gets TAG_SETS[i % 3]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def status_of(i: int) -> str:
    """Run i's status: mostly success, some errors and timeouts."""
    if i % 101 == 0:
        return "timeout"
    return "error" if i % 17 == 0 else "success"


def seed(url: str) -> dict[str, int]:
    """1,000 jobs with tags, descriptions and a few disabled; 100,000 runs, 100 per job.
    Returns counts of what the dashboard should show."""
    now = datetime.now(UTC)
    database = seed_jobs(url, [now + timedelta(hours=1, minutes=5 * i) for i in range(JOBS)])
    names = [f"job-{i:06d}" for i in range(JOBS)]
    changes = [
        {
            "which": name,
            "tags": TAG_SETS[i % 3],
            "description": f"bench job {i}: copies something somewhere" if i % 4 == 0 else "",
            "disabled": i % 50 == 0,
            "next_due_at": None if i % 50 == 0 else now + timedelta(hours=1, minutes=5 * i),
        }
        for i, name in enumerate(names)
    ]
    statement = (
        update(jobs)
        .where(jobs.c.name == bindparam("which"))
        .values(
            tags=bindparam("tags"),
            description=bindparam("description"),
            disabled=bindparam("disabled"),
            next_due_at=bindparam("next_due_at"),
        )
    )
    with database.engine.begin() as connection:
        connection.execute(statement, changes)
        ids = {name: id_ for name, id_ in connection.execute(select(jobs.c.name, jobs.c.id))}
    start = now - timedelta(days=30)
    rows = []
    for i in range(RUNS):
        began = start + timedelta(seconds=20 * i)
        seconds = 0.5 + (i * 7919 % 900) / 10  # 0.5 to 90.4 s: bars of many heights
        name = names[i % JOBS]
        rows.append(
            {
                "job_id": ids[name],
                "job_name": name,
                "job_type": "self-check",
                "status": status_of(i),
                "trigger": "schedule",
                "attempt": 1,
                "scheduled_for": began,
                "started_at": began,
                "finished_at": began + timedelta(seconds=seconds),
                "duration_seconds": seconds,
                "exit_code": 0 if status_of(i) == "success" else 1,
                "output": "",
            }
        )
    with database.engine.begin() as connection:
        for first in range(0, len(rows), 5000):
            connection.execute(insert(runs), rows[first : first + 5000])
        page_runs = connection.execute(select(runs.c.id).where(runs.c.job_name == PAGE_JOB)).all()
    database.dispose()
    last = {names[i % JOBS]: status_of(i) for i in range(RUNS)}  # the newest run wins
    assert len(page_runs) >= 100, f"{PAGE_JOB} has only {len(page_runs)} runs"
    return {
        "failed": sum(1 for status in last.values() if status != "success"),
        "tagged": sum(1 for i in range(JOBS) if TAG_SETS[i % 3]),
        "disabled": sum(1 for i in range(JOBS) if i % 50 == 0),
        "page runs": len(page_runs),
    }


def http_rounds(base: str, token: str, rounds: int) -> dict[str, Any]:
    """GET /, GET /jobs/{name} and GET /api/v1/jobs in turn: ms per request, sizes."""
    targets = {
        "dashboard": ("/", "text/html"),
        "job page": (f"/jobs/{PAGE_JOB}", "text/html"),
        "api": ("/api/v1/jobs", "application/json"),
    }
    times: dict[str, list[float]] = {name: [] for name in targets}
    sizes: dict[str, int] = {}
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        for counted in [False] * 2 + [True] * rounds:
            for name, (path, accept) in targets.items():
                began = time.perf_counter()
                response = client.get(path, headers={"Accept": accept})
                spent = (time.perf_counter() - began) * 1000
                if response.status_code != 200:
                    raise AssertionError(
                        f"GET {path}: {response.status_code}\n{response.text[:2000]}"
                    )
                if counted:
                    times[name].append(spent)
                sizes[name] = len(response.content)
                check(name, response)
    return {"times": times, "sizes": sizes}


def check(name: str, response: httpx.Response) -> None:
    """The page shows what it should: every job; the chart's 100 bars."""
    if name == "dashboard":
        found = response.text.count('<tr id="job-')
        assert found == JOBS, f"the dashboard shows {found} job rows, not {JOBS}"
    elif name == "job page":
        bars = response.text.count('<rect class="bar')
        assert bars == 100, f"the job page's chart has {bars} bars, not 100"
    else:
        assert len(response.json()["jobs"]) == JOBS


def browser_rounds(base: str, token: str, rounds: int) -> dict[str, list[dict[str, float]]]:
    """Chromium logs in, then loads / and the job page in turn; navigation timings."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console messages
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    timing = (
        "const n = performance.getEntriesByType('navigation')[0];"
        "return n && n.loadEventEnd > 0 ? {url: n.name, load: n.loadEventEnd,"
        " dom: n.domContentLoadedEventEnd, first_byte: n.responseStart,"
        " last_byte: n.responseEnd, size: n.encodedBodySize} : null;"
    )
    results: dict[str, list[dict[str, float]]] = {"dashboard": [], "job page": []}
    try:
        driver.get(f"{base}/login")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.CSS_SELECTOR, "form.login").submit()
        WebDriverWait(driver, 60).until(
            lambda d: d.current_url.rstrip("/") == base and d.find_elements(By.ID, "live")
        )
        for counted in [False] + [True] * rounds:
            for name, path in (("dashboard", "/"), ("job page", f"/jobs/{PAGE_JOB}")):
                driver.get(base + path)
                entry = WebDriverWait(driver, 60).until(lambda d: d.execute_script(timing))
                assert entry["url"] == base + path, f"ended at {entry['url']}, not {path}"
                if counted:
                    results[name].append(entry)
        errors = [
            entry
            for entry in driver.get_log("browser")
            if entry.get("level") in ("SEVERE", "WARNING")
        ]
        if errors:
            print(f"browser console: {errors}", file=sys.stderr)
    finally:
        driver.quit()
    return results


def ms(values: list[float]) -> str:
    """median / p90 / max."""
    return f"{statistics.median(values):.1f} / {percentile(values, 0.9):.1f} / {max(values):.1f} ms"


def verdict(value: float, target: float) -> str:
    return f"≤ {target:.0f} ms median: " + ("met" if value <= target else "**missed**")


def measure(
    backend: str, url: str, folder: Path, args: argparse.Namespace
) -> list[tuple[str, ...]]:
    """Seed, start `director serve`, run the rounds; the table's rows for this backend."""
    counts = seed(url)
    print(
        f"{backend}: {JOBS} jobs ({counts['failed']} with a failed last run, "
        f"{counts['tagged']} tagged, {counts['disabled']} disabled), {RUNS} runs, "
        f"{PAGE_JOB}: {counts['page runs']} runs",
        file=sys.stderr,
    )
    token = TokenService(Database.open(url), SystemClock()).add(
        "bench-web", "operator", None, "bench"
    )
    server = ApiServer(url, folder / f"serve-{backend}.log").start()
    try:
        time.sleep(1)
        found = http_rounds(server.url, token, args.rounds)
        browser = None
        if not args.skip_browser:
            browser = browser_rounds(server.url, token, args.browser_rounds)
    finally:
        server.stop()
    times, sizes = found["times"], found["sizes"]
    api = statistics.median(times["api"])
    rows: list[tuple[str, ...]] = []
    for name, label, target in (
        ("dashboard", "`GET /` (dashboard, 1,000 rows)", TARGET_RENDER_MS),
        ("job page", f"`GET /jobs/{PAGE_JOB}` (100-run chart)", TARGET_RENDER_MS),
        ("api", "`GET /api/v1/jobs` (the API's 1,000 jobs)", None),
    ):
        median = statistics.median(times[name])
        rows.append(
            (
                f"{backend}: {label}, n={len(times[name])}",
                ms(times[name]),
                f"{sizes[name] / 1000:,.0f} kB",
                f"{median / api:.2f}×",
                verdict(median, target) if target else "",
            )
        )
    for name, label in (("dashboard", "`/`"), ("job page", f"`/jobs/{PAGE_JOB}`")):
        if browser is None:
            break
        entries = browser[name]
        loads = [e["load"] for e in entries]
        first = statistics.median(e["first_byte"] for e in entries)
        dom = statistics.median(e["dom"] for e in entries)
        rows.append(
            (
                f"{backend}: Chromium, {label} loadEventEnd, n={len(loads)}",
                ms(loads),
                f"{statistics.median(e['size'] for e in entries) / 1000:,.0f} kB",
                f"first byte {first:.0f} ms, DOMContentLoaded {dom:.0f} ms (medians)",
                verdict(statistics.median(loads), TARGET_BROWSER_MS) if name == "dashboard" else "",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="HTTP requests per page")
    parser.add_argument("--browser-rounds", type=int, default=10, help="loads per page")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        postgres = PostgresServer() if "postgresql" in backends else None
        if postgres is not None:
            postgres.start()
        try:
            for backend in backends:
                if backend == "sqlite":
                    rows += measure("SQLite", f"sqlite:///{folder / 'web.db'}", folder, args)
                else:
                    assert postgres is not None
                    rows += measure("PostgreSQL", postgres.new_database(), folder, args)
        finally:
            if postgres is not None:
                postgres.stop()
    print_table(
        ("measurement", "median / p90 / max", "response", "ratio to GET /api/v1/jobs", "target"),
        rows,
    )


if __name__ == "__main__":
    main()
