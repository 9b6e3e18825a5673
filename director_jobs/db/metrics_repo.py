"""Run counts and durations for the metrics, whole across housekeeping: what `runs` holds
plus the totals of the runs housekeeping deleted (`pruned_run_totals`).

No prometheus_client here: retention (run by the runner's housekeeping job) records what
it deletes through this module, and the runner never loads the metrics stack.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CompoundSelect,
    Integer,
    Row,
    case,
    func,
    insert,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.engine import Connection, Engine

from director_jobs.db.schema import pruned_run_totals, runs
from director_jobs.model import RunStatus

# Upper bounds (seconds) of the run duration histogram's buckets, +Inf above the last:
# jobs take from a second (a check) to hours (an import of a large CMDB), so the bounds
# grow two- to fivefold from half a second to a day: 15 buckets, 17 series per job.
DURATION_BUCKETS: tuple[float, ...] = (
    0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400,
)  # fmt: skip

# Statuses a run ends in: what the runs counter counts (pending and running runs have
# not ended; a skipped run records slots that passed while no runner ran).
FINAL_STATUSES: tuple[str, ...] = tuple(
    s.value for s in RunStatus if s not in (RunStatus.PENDING, RunStatus.RUNNING)
)


def bucket_of(duration: float) -> int:
    """The index of the bucket a duration falls in: the first bound >= it (len: +Inf).

    E.g. 60.0 → the bucket `le="60.0"`; 60.1 → `le="120.0"`; 90000 → `le="+Inf"`.
    """
    return bisect.bisect_left(DURATION_BUCKETS, duration)


def bound_text(index: int) -> str:
    """The stored key of a bucket: its bound as float text, or +Inf."""
    return "+Inf" if index >= len(DURATION_BUCKETS) else repr(float(DURATION_BUCKETS[index]))


def _empty_buckets() -> list[int]:
    """No runs in any bucket."""
    return [0] * (len(DURATION_BUCKETS) + 1)


@dataclass
class RunTotals:
    """Runs of one job that ended with one status: how many, and how long they took."""

    runs: int = 0
    timed: int = 0  # of them, those that started and have a duration (no skipped slots)
    duration_sum: float = 0.0
    # Runs per bucket, each bucket alone (not cumulative); the last one is above the
    # largest bound.
    buckets: list[int] = field(default_factory=_empty_buckets)
    last_finished_at: datetime | None = None

    def observe(self, started: bool, duration: float | None, finished: datetime | None) -> None:
        """Count one run."""
        self.runs += 1
        if started and duration is not None:
            self.timed += 1
            self.duration_sum += duration
            self.buckets[bucket_of(duration)] += 1
        self._saw_finish(finished)

    def add(self, other: RunTotals) -> None:
        """Add another's runs to these."""
        self.runs += other.runs
        self.timed += other.timed
        self.duration_sum += other.duration_sum
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        self._saw_finish(other.last_finished_at)

    def _saw_finish(self, finished: datetime | None) -> None:
        """Keep the newest end seen."""
        if finished is not None and (
            self.last_finished_at is None or finished > self.last_finished_at
        ):
            self.last_finished_at = finished

    def stored_buckets(self) -> dict[str, int]:
        """The buckets as `pruned_run_totals.duration_buckets` keeps them (empty ones left out)."""
        return {bound_text(i): n for i, n in enumerate(self.buckets) if n}

    @staticmethod
    def buckets_from(stored: Mapping[str, Any]) -> list[int]:
        """Stored buckets placed in today's: each count goes to the first bucket whose bound
        is at least its own, so that a run counted under `le=b` stays under every `le>=b`."""
        buckets = _empty_buckets()
        for bound, count in stored.items():
            buckets[bucket_of(float(bound))] += int(count)
        return buckets


Key = tuple[str, str]  # (job name, status)


# The bucket of a run that has no duration to observe (a skipped slot, a run cancelled
# before it started): counted, but not in the histogram.
UNTIMED = -1


@functools.cache
def _totals_statement() -> CompoundSelect[Any]:
    """The runs table's counts per job, status and bucket, then the pruned totals, in one
    statement: one snapshot, so that a housekeeping pass committing meanwhile is counted
    once, never twice (a counter would go down at the next scrape) nor not at all.

    Each run's bucket is found once (a CASE that stops at the first bound it fits) and
    grouped by: over 100,000 runs that took half as long as a sum per bucket.
    Built once, on first use (not at import: the runner's housekeeping never needs it).
    """
    duration = runs.c.duration_seconds
    bucket = case(
        (or_(runs.c.started_at.is_(None), duration.is_(None)), UNTIMED),
        *((duration <= bound, index) for index, bound in enumerate(DURATION_BUCKETS)),
        else_=len(DURATION_BUCKETS),
    )
    ended = (
        select(
            runs.c.job_name,
            runs.c.status,
            bucket.label("bucket"),
            duration.label("duration"),
            runs.c.finished_at,
        )
        .where(runs.c.status.in_(FINAL_STATUSES))
        .subquery("ended")
    )
    kept = select(
        ended.c.job_name,
        ended.c.status,
        ended.c.bucket,
        func.count().label("runs"),
        func.sum(ended.c.duration).label("duration_sum"),
        func.max(ended.c.finished_at).label("last_finished_at"),
        type_coerce(null(), Integer).label("timed_runs"),
        type_coerce(null(), JSON).label("stored_buckets"),
    ).group_by(ended.c.job_name, ended.c.status, ended.c.bucket)
    p = pruned_run_totals.c
    pruned = select(
        p.job_name,
        p.status,
        type_coerce(null(), Integer),
        p.runs,
        p.duration_sum,
        p.last_finished_at,
        p.timed_runs,
        p.duration_buckets,
    )
    return union_all(kept, pruned)


def _totals_of(row: Row[Any]) -> RunTotals:
    """One row of the totals statement as RunTotals."""
    m = row._mapping
    found = RunTotals(runs=int(m["runs"] or 0), last_finished_at=m["last_finished_at"])
    if m["stored_buckets"] is not None:  # a pruned_run_totals row
        found.timed = int(m["timed_runs"])
        found.duration_sum = float(m["duration_sum"])
        found.buckets = RunTotals.buckets_from(m["stored_buckets"])
    elif m["bucket"] != UNTIMED:  # the runs table's runs of one bucket
        found.timed = found.runs
        found.duration_sum = float(m["duration_sum"] or 0.0)
        found.buckets[int(m["bucket"])] = found.runs
    return found


class MetricsRepository:
    """The reads behind the metrics; nothing here writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run_totals(self) -> dict[Key, RunTotals]:
        """Every (job, status)'s runs that ended, kept and pruned together."""
        totals: dict[Key, RunTotals] = {}
        with self.engine.connect() as connection:
            rows = connection.execute(_totals_statement()).all()
        for row in rows:
            key = (row.job_name, row.status)
            totals.setdefault(key, RunTotals()).add(_totals_of(row))
        return totals


# -- written by retention, in the transaction that deletes the runs ----------------------------


def totals_of_runs(rows: Iterable[Any]) -> dict[Key, RunTotals]:
    """Totals of runs about to be deleted: rows with job_name, status, started_at,
    duration_seconds and finished_at."""
    totals: dict[Key, RunTotals] = {}
    for row in rows:
        totals.setdefault((row.job_name, row.status), RunTotals()).observe(
            row.started_at is not None, row.duration_seconds, row.finished_at
        )
    return totals


def add_pruned(connection: Connection, totals: Mapping[Key, RunTotals]) -> None:
    """Add deleted runs' totals to `pruned_run_totals` (in the caller's transaction, which
    must keep other housekeeping passes out until it commits: retention's lock)."""
    if not totals:
        return
    p = pruned_run_totals.c
    # All of it (a row per job and status ever pruned: small), locked where that means
    # something: on SQLite the caller holds the write lock already.
    existing = {
        (r.job_name, r.status): r
        for r in connection.execute(select(pruned_run_totals).with_for_update())
    }
    for key in sorted(totals):
        merged = RunTotals()
        row = existing.get(key)
        if row is not None:
            merged.add(
                RunTotals(
                    runs=row.runs,
                    timed=row.timed_runs,
                    duration_sum=row.duration_sum,
                    buckets=RunTotals.buckets_from(row.duration_buckets),
                    last_finished_at=row.last_finished_at,
                )
            )
        merged.add(totals[key])
        values = {
            "runs": merged.runs,
            "timed_runs": merged.timed,
            "duration_sum": merged.duration_sum,
            "duration_buckets": merged.stored_buckets(),
            "last_finished_at": merged.last_finished_at,
        }
        if row is None:
            connection.execute(
                insert(pruned_run_totals).values(job_name=key[0], status=key[1], **values)
            )
        else:
            connection.execute(
                update(pruned_run_totals)
                .where(p.job_name == key[0], p.status == key[1])
                .values(values)
            )
