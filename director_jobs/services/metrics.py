"""Prometheus metrics of the jobs and runners, read from the database at each scrape.

A custom collector reads everything afresh when asked, and nothing is kept in the
process: every `director serve` worker and `director metrics --textfile` answer the same
for the same database. Counters include the runs housekeeping deleted
(`pruned_run_totals`), so that they never go down.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy.exc import DBAPIError

from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.db.failures import first_line
from director_jobs.db.metrics_repo import (
    DURATION_BUCKETS,
    FINAL_STATUSES,
    MetricsRepository,
    RunTotals,
    bound_text,
)
from director_jobs.db.runners_repo import RunnerInfo
from director_jobs.errors import DatabaseUnavailable
from director_jobs.model import Job, RunStatus
from director_jobs.services.health_check import CheckOptions, lateness
from director_jobs.services.starts import PeriodLookup, next_start

# What the text is, for the Content-Type of GET /metrics: the classic text format, which
# generate_latest writes (every Prometheus and node_exporter reads it).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A textfile is read by node_exporter, which runs as a user of its own.
TEXTFILE_MODE = 0o644
PREFIX = "director_jobs"


@dataclass(frozen=True)
class Snapshot:
    """Everything the metrics say, read at one scrape."""

    jobs: list[Job]
    totals: dict[tuple[str, str], RunTotals]  # (job, status) → runs that ended so
    runners: list[RunnerInfo]  # not stopped cleanly
    overdue: int
    queued: int
    now: datetime


class _PeriodsOnDemand:
    """Time periods, loaded only when a job names one (the period service costs imports
    that most set-ups without periods never need)."""

    def __init__(self, database: Database, clock: Clock, timezone: str) -> None:
        self.database = database
        self.clock = clock
        self.timezone = timezone
        self._service: Any = None

    def period(self, name: str) -> Any:
        """The period `name` (NotFound when there is none)."""
        if self._service is None:
            from director_jobs.services.periods import PeriodService

            self._service = PeriodService(self.database, self.clock, self.timezone)
        return self._service.period(name)


class MetricsCollector:
    """prometheus_client's custom collector over the database: `collect` reads it anew."""

    def __init__(self, database: Database, clock: Clock, default_timezone: str) -> None:
        self.database = database
        self.clock = clock
        self.default_timezone = default_timezone
        self.repository = MetricsRepository(database.engine)

    def snapshot(self) -> Snapshot:
        """Read jobs, run totals and runners; DatabaseUnavailable when that fails."""
        try:
            return self._read()
        except DBAPIError as exc:
            raise DatabaseUnavailable(
                f"database: cannot read the metrics: {first_line(exc)}"
            ) from None

    def _read(self) -> Snapshot:
        """One read of jobs, run totals and runners, judged at one instant."""
        now = self.clock.now()
        jobs = self.database.jobs.all()
        periods = _PeriodsOnDemand(self.database, self.clock, self.default_timezone)
        # The health check's own rule and default (--overdue 2x), so that both agree.
        factor = CheckOptions().overdue_factor
        tz = self.default_timezone
        return Snapshot(
            jobs=jobs,
            totals=self.repository.run_totals(),
            runners=[r for r in self.database.runners.all() if r.stopped_at is None],
            overdue=sum(lateness(job, periods, now, tz, factor) is not None for job in jobs),
            queued=sum(_waiting(job, periods, now) for job in jobs),
            now=now,
        )

    def collect(self) -> Iterator[Metric]:
        """The metric families of a fresh snapshot."""
        yield from families(self.snapshot())

    def exposition(self) -> bytes:
        """The Prometheus text format of a fresh snapshot."""
        return generate_latest(self)


def _waiting(job: Job, periods: PeriodLookup, now: datetime) -> bool:
    """True for a job a runner would start now (due, or triggered) but has not yet."""
    if job.claimed_by:
        return False
    start = next_start(job, periods, now)
    return start is not None and start <= now


def families(snapshot: Snapshot) -> Iterator[Metric]:
    """A snapshot as metric families; per-job ones for the jobs that exist now."""
    names = [job.name for job in snapshot.jobs]
    totals = snapshot.totals
    runs = CounterMetricFamily(
        f"{PREFIX}_runs",
        "Runs that ended, by job and status (housekeeping's deletions included).",
        labels=["job", "status"],
    )
    durations = HistogramMetricFamily(
        f"{PREFIX}_run_duration_seconds",
        "How long runs that started took, by job (housekeeping's deletions included).",
        labels=["job"],
    )
    last_success = GaugeMetricFamily(
        f"{PREFIX}_last_success_timestamp_seconds",
        "When the newest successful run of each job ended (Unix time; none: never).",
        labels=["job"],
    )
    for name in names:
        of_job = RunTotals()
        for status in FINAL_STATUSES:
            found = totals.get((name, status), RunTotals())
            runs.add_metric([name, status], found.runs)
            of_job.add(found)
        durations.add_metric([name], _cumulative(of_job), of_job.duration_sum)
        succeeded = totals.get((name, RunStatus.SUCCESS.value))
        if succeeded is not None and succeeded.last_finished_at is not None:
            last_success.add_metric([name], succeeded.last_finished_at.timestamp())
    yield runs
    yield durations
    yield last_success
    yield GaugeMetricFamily(
        f"{PREFIX}_running_jobs",
        "Jobs a runner is running now.",
        value=sum(1 for job in snapshot.jobs if job.claimed_by),
    )
    yield GaugeMetricFamily(
        f"{PREFIX}_overdue_jobs",
        "Jobs overdue as `director health check` judges them (2 intervals late).",
        value=snapshot.overdue,
    )
    yield GaugeMetricFamily(
        f"{PREFIX}_queue_depth",
        "Jobs due now (or triggered) that no runner has started yet.",
        value=snapshot.queued,
    )
    heartbeat = GaugeMetricFamily(
        f"{PREFIX}_runner_heartbeat_age_seconds",
        "Seconds since each runner's last heartbeat (runners that did not stop cleanly).",
        labels=["runner", "host", "mode"],
    )
    for runner in snapshot.runners:
        age = max(0.0, (snapshot.now - runner.heartbeat_at).total_seconds())
        heartbeat.add_metric([runner.label, runner.host, runner.mode], age)
    yield heartbeat


def _cumulative(totals: RunTotals) -> list[tuple[str, float]]:
    """A histogram's buckets as Prometheus wants them: cumulative, labelled by bound."""
    buckets, seen = [], 0
    for index, count in enumerate(totals.buckets):
        seen += count
        buckets.append((bound_text(index), float(seen)))
    assert len(buckets) == len(DURATION_BUCKETS) + 1 and buckets[-1][0] == "+Inf"
    return buckets


def write_textfile(path: Path, text: bytes) -> None:
    """Replace `path` with `text` at once, as node_exporter's textfile collector needs:
    a temporary file in the same folder (not ending in .prom: never read half-written),
    then a rename over the old one. OSError when the folder refuses it."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), TEXTFILE_MODE)  # mkstemp's 0600 would hide it
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
