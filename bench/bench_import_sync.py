"""Benchmarks of the import and sync job types (issue 5) on a generated CSV.

Run: .venv/bin/python bench/bench_import_sync.py [--rows 100000] [--rounds 3] [--url URL]
Prints a Markdown table of medians. Without --url each round uses a fresh SQLite file in a
temp folder; with --url (an empty PostgreSQL database, say) one round runs on that database.
Targets (issue 5, on SQLite): import of 100,000 rows ≤ 10 s, unchanged re-import ≤ 3 s,
sync of 100,000 rows into objects ≤ 20 s.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.imports.service import ImportService
from director_jobs.imports.spec import SourceSpec
from director_jobs.sync.service import SyncService
from director_jobs.sync.spec import RuleSpec

OPERATING_SYSTEMS = ("deb", "rhel", "win", "suse")


def write_hosts(path: Path, rows: int, changed_every: int = 0) -> None:
    """A CMDB export of `rows` hosts; every `changed_every`-th host gets a new address."""
    generator = random.Random(5)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["hostname", "ip", "os", "env", "site", "groups"])
        for number in range(rows):
            moved = changed_every and number % changed_every == 0
            writer.writerow(
                [
                    f"Host{number:06d}.Example.COM",
                    f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
                    + (".1" if moved else ""),
                    OPERATING_SYSTEMS[number % 4],
                    "test" if number % 10 == 0 else "prod",
                    f"site-{generator.randrange(40)}",
                    "web, linux" if number % 3 else "db",
                ]
            )


def definitions(path: Path) -> tuple[SourceSpec, RuleSpec]:
    """A source with three modifiers and a rule with a filter, as an administrator would."""
    source = SourceSpec(
        "cmdb",
        "csv",
        "hostname",
        {"path": str(path)},
        (
            {"column": "hostname", "modifier": "lowercase"},
            {"column": "hostname", "modifier": "regex_replace", "pattern": r"\.example\.com$"},
            {"column": "groups", "modifier": "split"},
        ),
    )
    rule = RuleSpec(
        "hosts",
        "cmdb",
        "host",
        {
            "object_name": "${hostname}",
            "address": "${ip}",
            "display_name": "${hostname} (${site})",
            "vars.os": "${os}",
            "vars.groups": "${groups}",
            "imports": ["generic-host"],
        },
        filter='env != "staging"',
        purge=True,
    )
    return source, rule


def timed(label: str, action: Callable[[], str], results: list[tuple[str, float, str]]) -> None:
    """Run `action`, keep its wall time and what it reported."""
    start = time.perf_counter()
    detail = action()
    results.append((label, time.perf_counter() - start, detail))


def one_round(rows: int, url: str | None) -> list[tuple[str, float, str]]:
    """Generate, import, re-import, sync, re-sync, change 1 %, import and sync again."""
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        csv_path = Path(folder) / "hosts.csv"
        write_hosts(csv_path, rows)
        database = Database.open(url or f"sqlite:///{Path(folder) / 'bench.db'}")
        clock = SystemClock()
        imports = ImportService(database.engine, clock)
        sync = SyncService(database.engine, clock)
        source, rule = definitions(csv_path)
        with database.engine.begin() as connection:
            imports.apply_in(connection, [source], clock.now())
            sync.apply_in(connection, [rule], clock.now())
        results: list[tuple[str, float, str]] = []
        timed("import (first, all rows new)", lambda: imports.run("cmdb").status, results)
        timed("import (unchanged)", lambda: imports.run("cmdb").status, results)
        timed("sync (all objects created)", lambda: sync.run("hosts").plan.counts.text(), results)
        timed("sync (nothing changed)", lambda: sync.run("hosts").plan.counts.text(), results)
        write_hosts(csv_path, rows, changed_every=100)
        timed("import (1 % of rows changed)", lambda: imports.run("cmdb").status, results)
        timed(
            "sync (1 % of objects modified)", lambda: sync.run("hosts").plan.counts.text(), results
        )
        database.dispose()
    return results


def main() -> None:
    """Run `--rounds` rounds (a fresh SQLite file each) and print medians per step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", help="an empty database URL (one round only; default: SQLite)")
    args = parser.parse_args()
    rounds = 1 if args.url else args.rounds
    per_step: dict[str, list[float]] = {}
    details: dict[str, str] = {}
    for _ in range(rounds):
        for label, seconds, detail in one_round(args.rows, args.url):
            per_step.setdefault(label, []).append(seconds)
            details[label] = detail
    backend = (args.url or "sqlite").split(":", 1)[0]
    print(f"{args.rows:,} rows, {backend}, {rounds} rounds\n")
    print("| step | median s | min s | max s | result |")
    print("|---|---:|---:|---:|---|")
    for label, seconds in per_step.items():
        print(
            f"| {label} | {statistics.median(seconds):.2f} | {min(seconds):.2f} "
            f"| {max(seconds):.2f} | {details[label]} |"
        )


if __name__ == "__main__":
    main()
