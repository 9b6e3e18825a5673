"""What `director health check` costs per run (issue 12), side by side in one run.

Run: .venv/bin/python bench/bench_health_check.py [--rounds 15] [--database sqlite|postgresql|both]

Icinga starts the plugin every minute on many hosts, so its whole process counts: the
wall time and CPU of `director health check` over 1,000 jobs and 100,000 runs, against
`python -c "import sqlalchemy"` (the floor of any Python plugin on our database layer),
alternating the two, `--rounds` times each. Target: at most 100 ms more (median).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_api import seed_history
from common import print_table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import PostgresServer  # noqa: E402

TARGET_MS = 100.0


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall and CPU seconds of one whole process, and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def measure(url: str, rounds: int) -> dict[str, list[float]]:
    """Alternate the plugin and the import floor; wall and CPU milliseconds of each."""
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": url, "TZ": "UTC"}
    env.pop("DIRECTOR_JOBS_CONFIG", None)
    plugin = [sys.executable, "-m", "director_jobs", "health", "check"]
    floor = [sys.executable, "-c", "import sqlalchemy"]
    timed(plugin, env)  # the first run migrates nothing but warms the page cache
    figures: dict[str, list[float]] = {"plugin": [], "plugin cpu": [], "floor": [], "floor cpu": []}
    for _ in range(rounds):
        wall, cpu, code = timed(plugin, env)
        assert code in (0, 1, 2), f"the plugin could not look (exit {code})"
        figures["plugin"].append(wall * 1000)
        figures["plugin cpu"].append(cpu * 1000)
        wall, cpu, code = timed(floor, env)
        assert code == 0
        figures["floor"].append(wall * 1000)
        figures["floor cpu"].append(cpu * 1000)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        postgres = PostgresServer() if "postgresql" in backends else None
        if postgres is not None:
            postgres.start()
        try:
            for backend in backends:
                if backend == "sqlite":
                    url = f"sqlite:///{Path(folder) / 'jobs.db'}"
                else:
                    assert postgres is not None
                    url = postgres.new_database()
                seed_history(url, 1000, 100_000)
                f = {k: statistics.median(v) for k, v in measure(url, args.rounds).items()}
                extra = f["plugin"] - f["floor"]
                rows.append((
                    backend,
                    f"{f['plugin']:.0f} ms (CPU {f['plugin cpu']:.0f} ms)",
                    f"{f['floor']:.0f} ms (CPU {f['floor cpu']:.0f} ms)",
                    f"{extra:+.0f} ms ({f['plugin'] / f['floor']:.2f}×)",
                    "met" if extra <= TARGET_MS else "MISSED",
                ))  # fmt: skip
        finally:
            if postgres is not None:
                postgres.stop()
    print_table(
        ("database", "health check, median", '`python -c "import sqlalchemy"`', "difference",
         f"≤ {TARGET_MS:.0f} ms more"),
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
