"""The JSON shapes of jobs and runs: what `--json` prints and what the HTTP API returns.

Scripts rely on these keys; both surfaces build them here so they cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from director_jobs.db.activity_repo import ActivityEntry
from director_jobs.db.notifications_repo import Delivery
from director_jobs.model import Job, PeriodSpec, Run
from director_jobs.secrets import masked

if TYPE_CHECKING:
    from director_jobs.services.jobs import JobDetail, JobView


def masked_parameters(value: Any) -> Any:
    """Parameters for display (`jobs list`, `jobs show`, `export`) with secrets shown as ***."""
    return masked(value)


def iso(value: datetime | None) -> str | None:
    """UTC ISO-8601 for JSON (`2026-11-23T19:30:00Z`)."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def job_json(job: Job) -> dict[str, Any]:
    """The stable JSON shape of a job (scripts rely on these keys)."""
    spec = job.spec
    return {
        "name": spec.name,
        "type": spec.type,
        "description": spec.description,
        "parameters": masked_parameters(spec.parameters),
        "interval": spec.interval,
        "cron": spec.cron,
        "timezone": spec.timezone,
        "timeperiod": spec.timeperiod,
        "disabled": spec.disabled,
        "timeout": spec.timeout,
        "retries": spec.retries,
        "retry_delay": spec.retry_delay,
        "tags": list(spec.tags),
        "confirm": spec.confirm,
        "memory_limit": spec.memory_limit,
        "requires_command": list(spec.requires_command),
        "requires_path": spec.requires_path,
        "next_due": iso(job.next_due_at),
        "last_attempt": iso(job.last_attempt_at),
        "running_on": job.claimed_by,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
    }


def run_json(run: Run, *, with_output: bool = False) -> dict[str, Any]:
    """The stable JSON shape of a run."""
    data: dict[str, Any] = {
        "id": run.id,
        "job": run.job_name,
        "type": run.job_type,
        "status": run.status.value,
        "trigger": run.trigger.value,
        "attempt": run.attempt,
        "scheduled_for": iso(run.scheduled_for),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "duration": run.duration,
        "exit_code": run.exit_code,
        "error": run.error,
        "runner": run.runner,
        "stopped_by": run.stopped_by,
        "parameters": masked(run.parameters),  # a trigger's own for this run, or null
        "progress": run.progress,  # the newest progress the job reported, or null
    }
    if with_output:
        data["output"] = run.output
    return data


def overview_json(view: JobView) -> dict[str, Any]:
    """A job with its next start, whether it runs now, and a summary of its last run."""
    last = view.last_run
    return {
        **job_json(view.job),
        "next_start": iso(view.next_start),
        "running": view.running,
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "status": last.status.value,
            "started_at": iso(last.started_at),
            "finished_at": iso(last.finished_at),
            "duration": last.duration,
        },
    }


def detail_json(detail: JobDetail) -> dict[str, Any]:
    """A job's overview with its effective parameters and recent runs (`jobs show`)."""
    return {
        **overview_json(detail.view),
        "effective_parameters": masked_parameters(detail.effective_parameters),
        "recent_runs": [run_json(r) for r in detail.recent_runs],
        "notifications": [delivery_json(d) for d in detail.notifications],
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    """How one notification went (what was sent stays out: receivers have it)."""
    return {
        "id": delivery.id,
        "channel": delivery.channel,
        "kind": delivery.kind,
        "event": delivery.event,
        "run_id": delivery.run_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "response_code": delivery.response_code,
        "error": delivery.error,
        "created_at": iso(delivery.created_at),
        "sent_at": iso(delivery.sent_at),
        "delivered_at": iso(delivery.delivered_at),
        "next_attempt_at": iso(delivery.next_attempt_at),
    }


def period_json(spec: PeriodSpec) -> dict[str, object]:
    """The stable JSON shape of a time period's definition."""
    return {
        "name": spec.name,
        "display_name": spec.display_name,
        "ranges": spec.ranges,
        "includes": list(spec.includes),
        "excludes": list(spec.excludes),
        "prefer_includes": spec.prefer_includes,
        "timezone": spec.timezone,
    }


def activity_json(entry: ActivityEntry) -> dict[str, Any]:
    """The stable JSON shape of an activity log entry."""
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "kind": entry.kind,
        "name": entry.name,
        "before": entry.before,
        "after": entry.after,
    }
