"""`director status`: which database and configuration this command uses, how this host
contains jobs, which runners are alive and what they run, failed and overdue jobs, and the
next starts, on one screen."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from director_jobs import __version__
from director_jobs.cli.app import App
from director_jobs.cli.render import duration_text, fit_line, local, paint, print_json
from director_jobs.cli.root import root
from director_jobs.services.shapes import iso

if TYPE_CHECKING:
    from director_jobs.services.status import RunningNow, Summary

pass_app = click.make_pass_decorator(App, ensure=True)

# Width of the `key:` column of the screen.
KEY_WIDTH = 13
Line = tuple[str, str, str | None]  # key (empty: continued), value, colour on a terminal


@root.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Show the database in use, the runners alive and what they run, failed and overdue
    jobs, and the next five starts (their time periods heeded).

    In colour on a terminal (unless NO_COLOR is set); --json for scripts.

    \b
    Examples:
      director status
      sudo -u director-jobs director status --json
    """
    from director_jobs.services.periods import PeriodService
    from director_jobs.services.status import StatusService

    settings, database, now = app.settings, app.database, app.clock.now()
    periods = PeriodService(database, app.clock, settings.timezone)
    service = StatusService(
        database, app.clock, periods=periods, default_timezone=settings.timezone
    )
    summary = service.summary()
    facts = _facts(app, summary)
    if as_json:
        print_json(facts)
        return
    for key, value, colour in _screen(facts, summary, settings.timezone, now):
        line = fit_line(f"{key + ':' if key else '':{KEY_WIDTH}} {value}")
        click.echo(paint(line, colour) if colour else line)


def _facts(app: App, summary: Summary) -> dict[str, Any]:
    """The JSON of `status --json` (keys only ever added: scripts read them)."""
    from director_jobs.db.engine import safe_url
    from director_jobs.execution.containment import Containment

    settings, database = app.settings, app.database
    upcoming = summary.next_job
    return {
        "version": __version__,
        "database": safe_url(settings.database_url),
        "read_only": database.read_only,
        "config_file": str(settings.config_file) if settings.config_file else None,
        "timezone": settings.timezone,
        "containment": Containment.detect(settings.containment).describe(),
        "runners": [
            {
                "runner": r.label,
                "mode": r.mode,
                "version": r.version,
                "started_at": iso(r.started_at),
                "heartbeat_at": iso(r.heartbeat_at),
                "containment": r.containment,
                "running": [_run_json(run) for run in summary.running_now if run.runner == r.label],
            }
            for r in summary.runners
        ],
        "jobs": summary.jobs,
        "disabled": summary.disabled,
        "running": summary.running,
        "failed": summary.failed,
        "next": {"job": upcoming[0], "at": iso(upcoming[1])} if upcoming else None,
        # Runs marked running whose runner is not alive (crash recovery ends them).
        "orphaned_runs": [{**_run_json(run), "runner": run.runner} for run in _orphans(summary)],
        "failures": [
            {
                "job": f.job,
                "run_id": f.run.id,
                "status": f.run.status.value,
                "finished_at": iso(f.run.finished_at),
                "error": f.error or None,
                "retry_pending": f.retry_pending,
            }
            for f in summary.failures
        ],
        "overdue": [
            {"job": o.job, "due_since": iso(o.due_since), "late": round(o.late, 3)}
            for o in summary.overdue
        ],
        "next_starts": [{"job": job, "at": iso(at)} for job, at in summary.next_starts],
    }


def _run_json(run: RunningNow) -> dict[str, Any]:
    """A run in progress as JSON: job, run id, start and seconds elapsed."""
    elapsed = None if run.elapsed is None else round(run.elapsed, 3)
    return {
        "job": run.job,
        "run_id": run.run_id,
        "started_at": iso(run.started_at),
        "elapsed": elapsed,
        "progress": run.progress,
    }


def _orphans(summary: Summary) -> list[RunningNow]:
    """The runs in progress whose runner is not among the live ones."""
    alive = {r.label for r in summary.runners}
    return [run for run in summary.running_now if run.runner not in alive]


def _screen(facts: dict[str, Any], summary: Summary, tz: str, now: datetime) -> list[Line]:
    """The lines of the screen, each with the colour it gets on a terminal."""
    read_only = " (read-only for this user)" if facts["read_only"] else ""
    lines: list[Line] = [
        ("version", facts["version"], None),
        ("database", facts["database"] + read_only, None),
        ("config file", facts["config_file"] or "(none)", None),
        ("time zone", tz, None),
        ("containment", facts["containment"], None),
    ]
    lines += _runner_lines(summary, now)
    failed = ", ".join(facts["failed"]) or "none"
    lines.append(
        (
            "jobs",
            f"{facts['jobs']} ({facts['disabled']} disabled, {facts['running']} running); "
            f"last run failed: {failed}",
            "red" if summary.failures else None,
        )
    )
    return lines + _job_lines(summary, tz, now)


def _job_lines(summary: Summary, tz: str, now: datetime) -> list[Line]:
    """Failed jobs with the first line of why, overdue jobs, and the next starts."""
    lines: list[Line] = []
    for position, f in enumerate(summary.failures):
        why = f", {f.error}" if f.error else ""
        pending = " (a retry is pending)" if f.retry_pending else ""
        text = f"{f.job}: run {f.run.id} {f.run.status.value}{why}{pending}"
        lines.append(("failed" if position == 0 else "", text, "red"))
    for position, o in enumerate(summary.overdue):
        text = f"{o.job}: due since {local(o.due_since, tz)} ({_roughly(o.late)} late)"
        lines.append(("overdue" if position == 0 else "", text, "yellow"))
    if not summary.next_starts:
        lines.append(("next starts", "none scheduled", None))
    for position, (job, at) in enumerate(summary.next_starts):
        seconds = (at - now).total_seconds()
        when = f"in {_roughly(seconds)}" if seconds > 0 else "due now"
        text = f"{local(at, tz)}  {job} ({when})"
        lines.append(("next starts" if position == 0 else "", text, None))
    return lines


def _runner_lines(summary: Summary, now: datetime) -> list[Line]:
    """One line per live runner, each followed by what it runs now; then orphaned runs."""
    lines: list[Line] = []
    for position, r in enumerate(summary.runners):
        beat = (now - r.heartbeat_at).total_seconds()
        mine = [run for run in summary.running_now if run.runner == r.label]
        idle = "" if mine else ", idle"
        lines.append(
            (
                "runners" if position == 0 else "",
                f"{r.label} {r.mode}, heartbeat {beat:.0f} s ago{idle}",
                "green",
            )
        )
        lines += [("", f"  runs {_running_text(run)}", "cyan") for run in mine]
    if not summary.runners:
        lines.append(("runners", "none alive (no heartbeat in the last 35 s)", "red"))
    for run in _orphans(summary):
        text = f"{_running_text(run)} on {run.runner or '?'}, whose runner is not alive"
        lines.append(("", f"  {text}", "yellow"))
    return lines


def _running_text(run: RunningNow) -> str:
    """`import-cmdb (run 4711) for 2m5s`."""
    elapsed = "" if run.elapsed is None else f" for {_roughly(run.elapsed)}"
    progress = f": {run.progress}" if run.progress else ""
    return f"{run.job} (run {run.run_id}){elapsed}{progress}"


def _roughly(seconds: float) -> str:
    """A duration to its two largest units: 47525 -> '13h12m', 125 -> '2m5s', 9.4 -> '9s'."""
    parts = re.findall(r"\d+[dhms]", duration_text(max(0, round(seconds))))
    return "".join(parts[:2]) or "0s"
