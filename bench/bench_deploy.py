"""Measure rendering and validating 10,000 hosts, and a whole config-deploy run.

Run: ``.venv/bin/python bench/bench_deploy.py [--hosts N] [--rounds R]`` (needs icinga2:
``apt-get install icinga2``). Hosts look like a CMDB sync's: address, a template, a check
command, a display name, a host group and custom variables (a string, a list, a dict).
Steps: load the objects from SQLite, render, write the files, `icinga2 daemon -C` on them,
and the whole job (load → render → stage → validate → move in → record) to a directory.
Target: render + validate of 10,000 hosts <= 10 s.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.db.schema import objects
from director_jobs.deploy.commands import CommandRunner
from director_jobs.deploy.directory import write_files
from director_jobs.deploy.render import render
from director_jobs.deploy.store import load_objects
from director_jobs.deploy.validate import DEFAULT_COMMAND, DEFAULT_INCLUDES, validate_tree
from director_jobs.execution.inprocess import RunLogAdapter
from director_jobs.job_types.base import JobContext
from director_jobs.job_types.config_deploy import ConfigDeployJob
from director_jobs.output import OutputTail

TARGET_SECONDS = 10.0
GROUPS = 10
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def host(index: int) -> dict[str, Any]:
    """One host's properties."""
    return {
        "address": f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}",
        "imports": ["generic-host"],
        "check_command": "hostalive",
        "display_name": f"Server {index:05d} (rack {index % 40})",
        "groups": [f"group-{index % GROUPS}"],
        "vars": {
            "os": "linux" if index % 3 else "windows",
            "tags": ["cmdb", f"env-{index % 4}"],
            "location": {"site": f"site-{index % 7}", "rack": index % 40},
        },
    }


def fill(url: str, count: int) -> None:
    """A migrated SQLite database holding `count` hosts and their groups."""
    database = Database.open(url)
    rows = [("hostgroup", f"group-{i}", {"display_name": f"Group {i}"}) for i in range(GROUPS)]
    rows += [("host", f"srv{i:05d}.example.org", host(i)) for i in range(count)]
    with database.engine.begin() as connection:
        connection.execute(
            insert(objects),
            [
                {"object_type": t, "name": n, "properties": p, "created_at": NOW, "updated_at": NOW}
                for t, n, p in rows
            ],
        )
    database.dispose()


def timed(rounds: int, step: Callable[[int], object]) -> list[float]:
    """Seconds of each of `rounds` calls of step(round)."""
    seconds = []
    for number in range(rounds):
        started = time.perf_counter()
        step(number)
        seconds.append(time.perf_counter() - started)
    return seconds


def job_context(url: str) -> JobContext:
    """A quiet job context on `url`."""
    output = OutputTail()
    logger = RunLogAdapter(logging.getLogger("bench.deploy"), {"job_name": "bench"}, output)
    return JobContext("bench", None, logger, SystemClock(), output, 600, database_url=url)


def main() -> None:
    """Run every step `--rounds` times and print a table of medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    version = subprocess.run(
        ["icinga2", "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]

    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as temp:
        folder = Path(temp)
        url = f"sqlite:///{folder / 'bench.db'}"
        fill(url, args.hosts)
        database = Database(url)
        loaded = load_objects(database.engine)
        config = render(loaded)
        tree = folder / "tree"
        write_files(tree, config.files)
        size = sum(len(text.encode()) for text in config.files.values())

        def validate(_: int) -> None:
            result = validate_tree(
                tree,
                command=DEFAULT_COMMAND,
                includes=DEFAULT_INCLUDES,
                runner=CommandRunner(),
                timeout=300,
            )
            assert result.ok, result.output[-2000:]
            assert f"Instantiated {args.hosts} Hosts." in result.output

        job = ConfigDeployJob()
        params = job.validate({"path": str(folder / "deployed"), "force": True})

        def deploy(number: int) -> None:
            result = job.run(params, job_context(url))
            assert "deployed" in result.summary, result.summary

        steps = [
            ("load objects (SQLite)", timed(args.rounds, lambda _: load_objects(database.engine))),
            ("render", timed(args.rounds, lambda _: render(loaded))),
            (
                "write files",
                timed(args.rounds, lambda n: write_files(folder / f"w{n}", config.files)),
            ),
            ("validate (icinga2 daemon -C)", timed(args.rounds, validate)),
            ("whole config-deploy run", timed(args.rounds, deploy)),
        ]
        database.dispose()

    medians = {name: statistics.median(seconds) for name, seconds in steps}
    print(
        f"config-deploy: {args.hosts:,} hosts + {GROUPS} host groups, {size / 1e6:.1f} MB in "
        f"{len(config.files)} files; {version.strip()}; Python {platform.python_version()}; "
        f"median of {args.rounds} rounds"
    )
    print(f"{'step':<32}{'median s':>10}{'min s':>10}{'max s':>10}")
    for name, seconds in steps:
        print(f"{name:<32}{medians[name]:>10.3f}{min(seconds):>10.3f}{max(seconds):>10.3f}")
    total = medians["render"] + medians["validate (icinga2 daemon -C)"]
    verdict = "OK" if total <= TARGET_SECONDS else "TOO SLOW"
    print(f"{'render + validate':<32}{total:>10.3f}   target <= {TARGET_SECONDS:g} s: {verdict}")


if __name__ == "__main__":
    main()
