"""Mixed load on the HTTP API while the daemon runs jobs (issue 10), quiet and loaded side by side.

Run: .venv/bin/python bench/bench_mixed_load.py [--seconds 20] [--concurrency 32]
     [--database sqlite|postgresql|both] [--triggers 10]

* One `director serve` (one uvicorn worker, as ApiServer starts it) and one daemon
  `jobs run --forever` on one database: 1,000 idle jobs, 20,000 finished runs, 8 quick
  `command` jobs (`true`) that the load triggers, and `self-check` probe jobs.
* The load: a raw asyncio HTTP/1.1 keep-alive client, a fixed number of connections, each
  sending requests back to back for a fixed time: 45% `GET /api/v1/jobs/{name}`, 45%
  `GET /api/v1/runs?job=…&limit=20`, 10% `POST /api/v1/jobs/{name}/trigger?queue=true`
  (`--triggers 0`: reads only, to tell the API's share of the CPU from the daemon's backlog).
* Start latency: probe jobs triggered one at a time through `JobService.trigger` (as
  bench_api.py does), first in a quiet phase, then during the load; the delay is the run's
  `started_at` minus the trigger instant the trigger wrote (the job's new `next_due_at`).
  The daemon runs one job at a time, so under load a probe may wait for the load's runs
  queued before it: the daemon's own delay is `started_at` minus the later of the trigger
  instant and the end of the run the daemon finished last before it (its queue wait left
  out).
PostgreSQL is a throwaway server started like the tests start theirs (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import cycle
from pathlib import Path
from typing import Any

import psutil
from bench_api import daemon, percentile, seed_history, started_at
from common import print_table
from sqlalchemy import func, select

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.db.schema import runs
from director_jobs.job_types.registry import Registry
from director_jobs.model import JobSpec
from director_jobs.services.jobs import JobService
from director_jobs.services.tokens import TokenService

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from api_server import ApiServer  # noqa: E402
from conftest import PostgresServer  # noqa: E402

IDLE_JOBS = 1000  # what the reads ask for: far-future due, never run by the daemon here
HISTORY_RUNS = 20_000  # 20 finished runs per idle job: a full page for `limit=20`
LOAD_JOBS = 8  # quick `true` jobs the load's triggers hit (queued while they run)
PROBE_JOBS = 100  # used in turn; one has long finished before it comes round again
# The kinds of request in the load; the reads share what the triggers leave evenly.
KINDS = ("GET /jobs/{name}", "GET /runs?job=…&limit=20", "POST …/trigger?queue=true")
TRIGGER_PERCENT = 10  # 45% / 45% / 10% by default
WARMUP_SECONDS = 2.0  # first seconds of the load not counted (connections, first requests)
REQUEST_TIMEOUT = 30.0  # a request slower than this counts as a transport error
PROBE_GAP = (0.05, 0.4)  # seconds between probes: land at every phase of a daemon pass


@dataclass
class Tally:
    """What the load client saw after the warm-up: latencies, statuses, completions per second."""

    counted_from: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)

    def note(self, kind: str, status: int, seconds: float) -> None:
        """Count one response, unless it finished during the warm-up."""
        now = time.monotonic()
        if now < self.counted_from:
            return
        self.latencies[kind].append(seconds)
        self.statuses[(kind, status)] += 1
        self.per_second[int(now - self.counted_from)] += 1


@dataclass
class Phase:
    """One backend's figures: the load's tally, probe delays quiet and loaded, CPU shares."""

    tally: Tally
    seconds: float
    quiet: list[float]
    loaded: list[float]
    load_runs: int
    cpu: dict[str, float]
    loaded_own: list[float] = field(default_factory=list)  # the queue wait left out


# -- the HTTP/1.1 client ----------------------------------------------------------------


async def read_chunked(reader: asyncio.StreamReader) -> int:
    """Read a chunked body up to its last chunk and trailers; return its size."""
    size = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        chunk = int(line.split(b";", 1)[0].strip(), 16)
        if chunk == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            return size
        await reader.readexactly(chunk + 2)  # the chunk and its CRLF
        size += chunk


async def read_response(reader: asyncio.StreamReader, method: str) -> tuple[int, bool]:
    """Read one response (status line, headers, body); its status and whether to keep alive."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, status_text = head[0].split(" ", 2)[:2]
    status = int(status_text)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    keep = version == "HTTP/1.1" and headers.get("connection") != "close"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, keep
    if "chunked" in headers.get("transfer-encoding", ""):
        await read_chunked(reader)
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:
        await reader.read()  # delimited by the end of the connection
        keep = False
    return status, keep


class LoadClient:
    """N keep-alive connections sending a random mix of requests back to back until a deadline."""

    def __init__(
        self, port: int, token: str, concurrency: int, seconds: float, triggers: float
    ) -> None:
        self.port = port
        self.token = token
        self.concurrency = concurrency
        self.seconds = seconds
        self.weights = [(100 - triggers) / 2, (100 - triggers) / 2, triggers]

    def request(self, rng: random.Random) -> tuple[str, str, bytes]:
        """A random request of the mix: its kind, method and bytes."""
        kind = rng.choices(KINDS, self.weights)[0]
        if kind.startswith("POST"):
            name = f"load-{rng.randrange(LOAD_JOBS):02d}"
            method, target, extra = "POST", f"/api/v1/jobs/{name}/trigger?queue=true", 0
        elif kind.startswith("GET /jobs"):
            method, target, extra = "GET", f"/api/v1/jobs/job-{rng.randrange(IDLE_JOBS):06d}", None
        else:
            job = f"job-{rng.randrange(IDLE_JOBS):06d}"
            method, target, extra = "GET", f"/api/v1/runs?job={job}&limit=20", None
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            f"Authorization: Bearer {self.token}",
        ]
        if extra is not None:
            lines.append(f"Content-Length: {extra}")
        return kind, method, ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def run(self) -> Tally:
        """Run the load for `seconds` (the first WARMUP_SECONDS not counted)."""
        started = time.monotonic()
        tally = Tally(counted_from=started + WARMUP_SECONDS)
        deadline = started + self.seconds
        await asyncio.gather(
            *(self._connection(tally, deadline, random.Random(i)) for i in range(self.concurrency))
        )
        return tally

    async def _connection(self, tally: Tally, deadline: float, rng: random.Random) -> None:
        """One connection's requests, back to back; reconnect after a close or an error."""
        while time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError as exc:
                tally.transport_errors[f"connect: {type(exc).__name__}"] += 1
                await asyncio.sleep(0.1)
                continue
            try:
                await self._requests(reader, writer, tally, deadline, rng)
            finally:
                writer.close()

    async def _requests(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        tally: Tally,
        deadline: float,
        rng: random.Random,
    ) -> None:
        """Requests on one open connection until the deadline, a close or an error."""
        while time.monotonic() < deadline:
            kind, method, data = self.request(rng)
            began = time.perf_counter()
            try:
                writer.write(data)
                status, keep = await asyncio.wait_for(
                    read_response(reader, method), REQUEST_TIMEOUT
                )
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                tally.transport_errors[f"{kind}: {type(exc).__name__}"] += 1
                return
            tally.note(kind, status, time.perf_counter() - began)
            if not keep:
                return


# -- set-up, daemon and probes --------------------------------------------------------


def seed(url: str) -> None:
    """Idle jobs with history, the load's `command` jobs (`true`) and the probes' jobs.

    The probes are in-process `self-check` jobs (as in bench_api.py): a probe's own run
    ends in a few ms, so that it never delays the next probe; what they wait for under
    load is the load's jobs. None has a schedule: they run only when triggered.
    """
    seed_history(url, IDLE_JOBS, HISTORY_RUNS)
    database = Database.open(url)
    service = JobService(database, Registry(), SystemClock(), "UTC")
    for i in range(LOAD_JOBS):
        service.add(JobSpec(name=f"load-{i:02d}", type="command", parameters={"command": ["true"]}))
    for i in range(PROBE_JOBS):
        service.add(JobSpec(name=f"probe-{i:03d}", type="self-check"))
    database.dispose()


def free_since(database: Database, started: datetime) -> datetime | None:
    """When the daemon finished the run before the one that started at `started`."""
    query = select(func.max(runs.c.finished_at)).where(runs.c.finished_at <= started)
    with database.engine.connect() as connection:
        return connection.execute(query).scalar()  # type: ignore[no-any-return]


def probe(
    url: str, names: Iterator[str], until: float, own: list[float] | None = None
) -> list[float]:
    """Trigger probe jobs one at a time until `until`; trigger → start delays in seconds.
    `own` gets the daemon's own delays (the wait for runs queued before the probe left out)."""
    database = Database.open(url)
    service = JobService(database, Registry(), SystemClock(), "UTC")
    delays = []
    try:
        while time.monotonic() + PROBE_GAP[1] < until:
            time.sleep(random.uniform(*PROBE_GAP))
            name = next(names)
            outcome: Any = service.trigger(name)
            # The Job itself (b5df13f), or a result that holds it as `.job` (queued runs).
            asked = getattr(outcome, "job", outcome).next_due_at
            assert asked is not None
            started = started_at(database, name, asked)
            delays.append((started - asked).total_seconds())
            if own is not None:
                free = free_since(database, started)
                ready = asked if free is None else max(asked, free)
                own.append((started - ready).total_seconds())
    finally:
        database.dispose()
    return delays


def cpu_seconds(processes: dict[str, psutil.Process]) -> dict[str, float]:
    """CPU seconds used so far by each process (with its waited-for children: the jobs)."""
    used = {}
    for name, process in processes.items():
        times = process.cpu_times()
        used[name] = times.user + times.system + times.children_user + times.children_system
    machine = psutil.cpu_times()
    used["machine"] = sum(machine) - machine.idle - machine.iowait  # every process, the DB too
    return used


def load_runs_since(url: str, since: datetime) -> int:
    """How many runs of the load's jobs started since `since`."""
    database = Database.open(url)
    query = select(func.count()).where(runs.c.job_name.like("load-%"), runs.c.started_at >= since)
    with database.engine.connect() as connection:
        count = int(connection.execute(query).scalar_one())
    database.dispose()
    return count


def under_load(
    url: str, client: LoadClient, watched: dict[str, psutil.Process], names: Iterator[str]
) -> Phase:
    """Run the load with probes beside it (in a thread); the phase without its quiet probes."""
    before, since = cpu_seconds(watched), SystemClock().now()
    loaded: list[float] = []
    own: list[float] = []
    until = time.monotonic() + client.seconds
    prober = threading.Thread(target=lambda: loaded.extend(probe(url, names, until, own)))
    prober.start()
    tally = asyncio.run(client.run())
    prober.join()
    after = cpu_seconds(watched)
    cpu = {name: (after[name] - before[name]) / client.seconds for name in after}
    runs_started = load_runs_since(url, since)
    return Phase(tally, client.seconds - WARMUP_SECONDS, [], loaded, runs_started, cpu, own)


def measure(url: str, folder: Path, args: argparse.Namespace) -> Phase:
    """Seed, start serve and the daemon; quiet probes, then the load with probes beside it."""
    seed(url)
    token = TokenService(Database.open(url), SystemClock()).add("loader", "operator", None, "b")
    server = ApiServer(url, folder / f"serve-{random.randrange(10**9)}.log").start()
    assert server.process is not None
    names = cycle(f"probe-{i:03d}" for i in range(PROBE_JOBS))
    client = LoadClient(server.port, token, args.concurrency, args.seconds, args.triggers)
    try:
        with daemon(url, REPO) as process:
            quiet = probe(url, names, time.monotonic() + args.seconds)
            watched = {
                "serve": psutil.Process(server.process.pid),
                "daemon": psutil.Process(process.pid),
                "client": psutil.Process(),
            }
            phase = under_load(url, client, watched, names)
    finally:
        server.stop()
    phase.quiet = quiet
    return phase


# -- the report -----------------------------------------------------------------------


def ms(values: list[float]) -> str:
    """p50 / p99 / max in milliseconds, with the count."""
    if not values:
        return "none"
    return (
        f"{statistics.median(values) * 1000:.1f} / {percentile(values, 0.99) * 1000:.1f} / "
        f"{max(values) * 1000:.1f} ms (n={len(values)})"
    )


def ratio(loaded: list[float], quiet: list[float], share: float) -> str:
    """How many times longer under load, at a percentile."""
    if not loaded or not quiet:
        return "n/a"
    return f"{percentile(loaded, share) / percentile(quiet, share):.1f}×"


def statuses(tally: Tally) -> str:
    """Responses by status code, e.g. `200: 9,000, 202: 1,000`."""
    codes: Counter[int] = Counter()
    for (_, code), count in tally.statuses.items():
        codes[code] += count
    return ", ".join(f"{code}: {count:,}" for code, count in sorted(codes.items()))


def failures(tally: Tally) -> list[str]:
    """Non-2xx responses and transport errors, each as `kind → what: count`."""
    found = [
        f"{kind} → {code}: {count}"
        for (kind, code), count in sorted(tally.statuses.items())
        if not 200 <= code < 300
    ]
    found += [f"{what}: {count}" for what, count in sorted(tally.transport_errors.items())]
    return found


def fatal(tally: Tally) -> list[str]:
    """5xx responses and transport errors: either makes the benchmark fail."""
    found = [f"{kind} → {code}: {n}" for (kind, code), n in tally.statuses.items() if code >= 500]
    return found + [f"{what}: {n}" for what, n in sorted(tally.transport_errors.items())]


def slowest_second(phase: Phase) -> int:
    """Fewest responses in one whole second of the counted window."""
    whole = int(phase.seconds)  # the last, partial second would look slow
    return min(phase.tally.per_second.get(i, 0) for i in range(whole)) if whole else 0


def rows_of(phase: Phase) -> list[str]:
    """One backend's column of the table, in the order of ROW_LABELS."""
    tally, seconds = phase.tally, phase.seconds
    total = sum(len(v) for v in tally.latencies.values())
    every = [x for v in tally.latencies.values() for x in v]
    column = [f"{total / seconds:,.0f} req/s ({total:,} in {seconds:.0f} s)",
              f"{slowest_second(phase):,} req/s", ms(every)]  # fmt: skip
    for kind in KINDS:
        values = tally.latencies.get(kind, [])
        column.append(f"{len(values) / seconds:,.0f} req/s; {ms(values)}")
    column += [
        statuses(tally),
        "; ".join(failures(tally)) or "none",
        ms(phase.quiet),
        ms(phase.loaded),
        ms(phase.loaded_own),
        f"{ratio(phase.loaded, phase.quiet, 0.5)} / {ratio(phase.loaded, phase.quiet, 0.99)}",
        f"{phase.load_runs:,} ({phase.load_runs / (seconds + WARMUP_SECONDS):.0f}/s)",
        " / ".join(f"{phase.cpu[name]:.2f}" for name in ("serve", "daemon", "client", "machine")),
    ]
    return column


ROW_LABELS = (
    ("requests, after a 2 s warm-up", "≥ 500 req/s"),
    ("slowest whole second", "≥ 500 req/s"),
    ("all requests: latency p50 / p99 / max", ""),
    *((f"`{kind}`: rate; latency p50 / p99 / max", "") for kind in KINDS),
    ("responses by status", ""),
    ("non-2xx responses, transport errors", "none (5xx: failure)"),
    ("probe trigger → start, quiet: p50 / p99 / max", "p99 ≤ 50 ms"),
    ("probe trigger → start, under load: p50 / p99 / max", "p99 ≤ 50 ms"),
    ("the same, the daemon's own delay (its queue wait left out)", ""),
    ("under load ÷ quiet, p50 / p99", ""),
    ("runs of the load's jobs during the load", ""),
    ("CPU cores used under load: serve / daemon+jobs / client / machine", "(2 cores in all)"),
)


def report(results: dict[str, Phase]) -> int:
    """Print the table and the verdict; 1 when any 5xx or transport error occurred."""
    columns = {backend: rows_of(phase) for backend, phase in results.items()}
    rows = [
        (label, *(columns[b][i] for b in results), target)
        for i, (label, target) in enumerate(ROW_LABELS)
    ]
    print_table(("measurement", *results, "target"), rows)
    broken = 0
    for backend, phase in results.items():
        total = sum(len(v) for v in phase.tally.latencies.values())
        fast = total / phase.seconds >= 500
        prompt = bool(phase.loaded) and percentile(phase.loaded, 0.99) <= 0.050
        own = bool(phase.loaded_own) and percentile(phase.loaded_own, 0.99) <= 0.050
        print(f"\n{backend}: ≥ 500 req/s {'met' if fast else 'MISSED'}; "
              f"start p99 ≤ 50 ms under load {'met' if prompt else 'MISSED'} "
              f"(the daemon's own delay: {'met' if own else 'MISSED'})")  # fmt: skip
        bad = fatal(phase.tally)
        if bad:
            print(f"!!! {backend}: BENCHMARK FAILED, 5xx or transport errors: {bad}")
            broken = 1
    return broken


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0, help="of the load, and of quiet")
    parser.add_argument("--concurrency", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--triggers", type=float, default=TRIGGER_PERCENT, help="percent of the requests"
    )
    args = parser.parse_args()
    results: dict[str, Phase] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.database in ("sqlite", "both"):
            url = f"sqlite:///{folder / 'mixed.db'}"
            results["SQLite"] = measure(url, folder, args)
        if args.database in ("postgresql", "both"):
            postgres = PostgresServer()
            postgres.start()
            try:
                url = postgres.new_database()
                results["PostgreSQL"] = measure(url, folder, args)
            finally:
                postgres.stop()
    sys.exit(report(results))


if __name__ == "__main__":
    main()
