"""`director status`: which database and configuration this command uses, how this host
contains jobs, which runners are alive, and the state of the jobs, at a glance."""

from __future__ import annotations

from typing import Any

import click

from director_jobs import __version__
from director_jobs.cli.app import App
from director_jobs.cli.render import local, print_json
from director_jobs.cli.root import root
from director_jobs.services.shapes import iso

pass_app = click.make_pass_decorator(App, ensure=True)


@root.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Show the database in use, the runners alive, and how many jobs failed or run.

    \b
    Examples:
      director status
      sudo -u director-jobs director status --json
    """
    from director_jobs.db.engine import safe_url
    from director_jobs.execution.containment import Containment
    from director_jobs.services.status import StatusService

    settings, database, now = app.settings, app.database, app.clock.now()
    summary = StatusService(database, app.clock).summary()
    runners, upcoming = summary.runners, summary.next_job
    facts: dict[str, Any] = {
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
            }
            for r in runners
        ],
        "jobs": summary.jobs,
        "disabled": summary.disabled,
        "running": summary.running,
        "failed": summary.failed,
        "next": {"job": upcoming[0], "at": iso(upcoming[1])} if upcoming else None,
    }
    if as_json:
        print_json(facts)
        return
    tz = settings.timezone
    lines = [
        ("version", facts["version"]),
        (
            "database",
            facts["database"] + (" (read-only for this user)" if database.read_only else ""),
        ),
        ("config file", facts["config_file"] or "(none)"),
        ("time zone", tz),
        ("containment", facts["containment"]),
    ]
    if runners:
        for position, r in enumerate(runners):
            beat = (now - r.heartbeat_at).total_seconds()
            lines.append(
                (
                    "runners" if position == 0 else "",
                    f"{r.label} {r.mode}, heartbeat {beat:.0f} s ago",
                )
            )
    else:
        lines.append(("runners", "none alive (no heartbeat in the last 35 s)"))
    failed = ", ".join(facts["failed"]) or "none"
    lines.append(
        (
            "jobs",
            f"{facts['jobs']} ({facts['disabled']} disabled, {facts['running']} running); "
            f"last run failed: {failed}",
        )
    )
    if upcoming:
        lines.append(("next", f"{upcoming[0]} at {local(upcoming[1], tz)}"))
    for key, value in lines:
        click.echo(f"{key + ':' if key else '':13} {value}")
