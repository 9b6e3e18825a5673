"""What `director health check` costs per run (issue 12), side by side in one run.

Run: .venv/bin/python bench/bench_health_check.py [--rounds 15] [--database sqlite|postgresql|both]
     [--baseline /tmp/base_export]

Icinga starts the plugin every minute on many hosts, so its whole process counts: the
wall time and CPU of `director health check` over 1,000 jobs and 100,000 runs, against
`python -c "import sqlalchemy"` (the floor of any Python plugin on our database layer),
alternating the two, `--rounds` times each. Target: at most 100 ms more (median).

--baseline: a source tree of an earlier version (e.g. `git archive HEAD | tar -x -C
/tmp/base_export`) whose plugin runs as a third command in each round, through PYTHONPATH
and from that folder (`-m` puts the working folder first on sys.path). It must know the
checkout's newest schema revision: it reads the database this checkout migrated.
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


def timed(argv: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[float, float, int]:
    """Wall and CPU seconds of one whole process, and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False, cwd=cwd)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def measure(url: str, rounds: int, baseline: Path | None) -> dict[str, list[float]]:
    """Alternate the plugin, the baseline's (if any) and the import floor; wall and CPU
    milliseconds of each."""
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": url, "TZ": "UTC"}
    env.pop("DIRECTOR_JOBS_CONFIG", None)
    plugin = [sys.executable, "-m", "director_jobs", "health", "check"]
    commands = {"plugin": (plugin, env, REPO)}
    if baseline is not None:
        commands["baseline"] = (plugin, {**env, "PYTHONPATH": str(baseline)}, baseline)
    commands["floor"] = ([sys.executable, "-c", "import sqlalchemy"], env, REPO)
    timed(plugin, env)  # the first run migrates (once) and warms the page cache
    figures: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, (argv, variables, folder) in commands.items():
            wall, cpu, code = timed(argv, variables, folder)
            assert code in (0, 1, 2), f"{name}: could not look (exit {code})"
            figures.setdefault(name, []).append(wall * 1000)
            figures.setdefault(f"{name} cpu", []).append(cpu * 1000)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--baseline", type=Path, help="source tree of the version to compare")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    names = ["plugin", *(["baseline"] if args.baseline else []), "floor"]
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
                figures = measure(url, args.rounds, args.baseline)
                f = {k: statistics.median(v) for k, v in figures.items()}
                rows.append((backend, *(_cell(f, name) for name in names), _difference(f, "plugin"),
                             "met" if f["plugin"] - f["floor"] <= TARGET_MS else "MISSED",
                             *([_difference(f, "baseline")] if args.baseline else [])))  # fmt: skip
        finally:
            if postgres is not None:
                postgres.stop()
    print_table(
        ("database", "health check, median", *(["baseline, median"] if args.baseline else []),
         '`python -c "import sqlalchemy"`', "difference", f"≤ {TARGET_MS:.0f} ms more",
         *(["baseline's difference"] if args.baseline else [])),
        rows,
    )  # fmt: skip


def _cell(f: dict[str, float], name: str) -> str:
    """A command's median wall time and CPU."""
    return f"{f[name]:.0f} ms (CPU {f[name + ' cpu']:.0f} ms)"


def _difference(f: dict[str, float], name: str) -> str:
    """A command's median beyond the floor's, and their ratio."""
    return f"{f[name] - f['floor']:+.0f} ms ({f[name] / f['floor']:.2f}×)"


if __name__ == "__main__":
    main()
