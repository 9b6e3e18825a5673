"""When a runner will next start a job: its due time moved into its time period.

Shared by `jobs list/show`, the API and the health check (which must stay light: Icinga
starts it every minute, and the job service's imports would double its cost).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from director_jobs.errors import NotFound
from director_jobs.model import Job, Trigger


class _Period(Protocol):
    def contains(self, instant: datetime) -> bool: ...

    def next_transition(self, after: datetime) -> datetime | None: ...


class PeriodLookup(Protocol):
    """Finds a time period by name (NotFound when there is none): a PeriodService."""

    def period(self, name: str) -> _Period: ...


def next_start(job: Job, periods: PeriodLookup | None, now: datetime) -> datetime | None:
    """When a runner will next start `job`, or None when nothing will.

    None for a disabled job, one with neither schedule nor trigger, or one whose period
    never opens again. A `jobs trigger` ignores the period, as the runner does.
    """
    due = job.next_due_at
    if job.spec.disabled or due is None:
        return None
    if job.pending_trigger is Trigger.MANUAL or not job.spec.timeperiod or periods is None:
        return due
    try:
        period = periods.period(job.spec.timeperiod)
    except NotFound:
        return None
    candidate = max(due, now)
    return candidate if period.contains(candidate) else period.next_transition(candidate)


def first_allowed_start(job: Job, periods: PeriodLookup | None) -> datetime | None:
    """The first instant at or after the job's due time that its time period allows (it
    may lie in the past): since when the job could have started. None when nothing will
    start it, or its period never opens again."""
    due = job.next_due_at
    if job.spec.disabled or due is None:
        return None
    if job.pending_trigger is Trigger.MANUAL or not job.spec.timeperiod or periods is None:
        return due
    try:
        period = periods.period(job.spec.timeperiod)
    except NotFound:
        return None
    return due if period.contains(due) else period.next_transition(due)
