"""The Icinga 2 Service objects that receive the jobs' passive check results.

One Service per job on the `[icinga]` channel's host. Results arrive passively after each
run; the `dummy` check runs only when none came for `check_interval` (freshness: twice the
longest gap between the job's next starts, its time period included), and then says so
as UNKNOWN. A manual-only or disabled job has no freshness check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from director_jobs.deploy.dsl import number, string
from director_jobs.deploy.render import HEADER
from director_jobs.model import Job
from director_jobs.notify.config import IcingaChannel
from director_jobs.schedule import Schedule

FILE_NAME = "director-jobs-services.conf"
# Starts looked at to find the longest gap (a weekly cron shows its gap within 20 slots).
STARTS_LOOKED_AT = 20
# Freshness is never shorter than this: a result can lag a run's start by its run time.
MIN_FRESHNESS_SECONDS = 300.0
UNKNOWN = 3


class _Period(Protocol):
    def contains(self, instant: datetime) -> bool: ...

    def next_transition(self, after: datetime) -> datetime | None: ...


class PeriodLookup(Protocol):
    """Finds a time period by name (a PeriodService)."""

    def period(self, name: str) -> _Period: ...


def longest_gap(
    schedule: Schedule, period_name: str | None, periods: PeriodLookup | None, now: datetime
) -> float | None:
    """Seconds of the longest gap between the job's next starts (None: it never starts)."""
    period = periods.period(period_name) if period_name and periods is not None else None
    longest, previous = 0.0, now
    for _ in range(STARTS_LOOKED_AT):
        start = schedule.next_after(previous)
        if start is not None and period is not None and not period.contains(start):
            start = period.next_transition(start)
        if start is None:
            break
        longest = max(longest, (start - previous).total_seconds())
        previous = start
    return longest or None


def service_block(job: Job, host: str, freshness: float | None) -> str:
    """One `object Service` for `job` on `host`."""
    lines = [
        f"object Service {string(job.name)} {{",
        f"  host_name = {string(host)}",
        '  check_command = "dummy"',
        "  max_check_attempts = 1  // a passive result is final: retries are the runner's",
        f"  vars.director_jobs_job = {string(job.name)}",
    ]
    if freshness is None or job.spec.disabled:
        lines.append("  enable_active_checks = false  // no schedule: no freshness check")
    else:
        lines += [
            f"  check_interval = {number(round(freshness))}s",
            f"  retry_interval = {number(round(freshness))}s",
            f"  vars.dummy_state = {UNKNOWN}",
            "  vars.dummy_text = "
            + string(
                f"no result from director-jobs for {_words(freshness)}: is the runner running?"
            ),
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_services(
    jobs: Iterable[Job],
    channel: IcingaChannel,
    schedule_of: Callable[[Job], Schedule | None],
    periods: PeriodLookup | None,
    now: datetime,
) -> str:
    """The file of Service objects for the jobs the channel covers, sorted by name."""
    blocks = []
    for job in sorted(jobs, key=lambda j: j.name):
        if not channel.selection.covers(job.name, job.spec.tags):
            continue
        schedule = schedule_of(job)
        gap = longest_gap(schedule, job.spec.timeperiod, periods, now) if schedule else None
        freshness = max(MIN_FRESHNESS_SECONDS, 2 * gap) if gap else None
        blocks.append(service_block(job, channel.host, freshness))
    return HEADER + "".join("\n" + block for block in blocks)


def _words(seconds: float) -> str:
    """`30m`, `2h`, `1d 12h`: a freshness as people say it."""
    delta = timedelta(seconds=round(seconds))
    days, rest = delta.days, delta.seconds
    hours, minutes = rest // 3600, rest % 3600 // 60
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes or not parts else []
    return " ".join(parts)
