"""`director health check`: a monitoring plugin for Icinga (or any Nagios-style monitor).

As Icinga runs it, cli/__init__.py answers it without click; this command answers the
rest the same way (help, usage errors, -v, databases other than SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any, NoReturn

import click

from director_jobs.cli.app import App
from director_jobs.cli.root import root
from director_jobs.errors import InvalidInput
from director_jobs.services import health_check as hc

pass_app = click.make_pass_decorator(App, ensure=True)


@root.group()
def health() -> None:
    """Health checks for monitoring."""


@health.command("check")
@click.option(
    "--check",
    "checks",
    default=hc.DEFAULT_CHECKS,
    show_default=True,
    metavar="CHECKS",
    help="Comma-separated checks: jobs, runner, database, deployments (the last deployment).",
)
@click.option(
    "--job", "jobs", multiple=True, metavar="NAME", help="Check only this job (repeatable)."
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Check only jobs with this tag (repeatable).",
)
@click.option(
    "--exclude", "excluded", multiple=True, metavar="NAME", help="Leave this job out (repeatable)."
)
@click.option(
    "--overdue",
    default=hc.DEFAULT_OVERDUE,
    show_default=True,
    metavar="FACTOR",
    help="A job is overdue this many intervals (or cron slots) after its start.",
)
@click.option(
    "--runner-mode",
    default=hc.DEFAULT_RUNNER_MODE,
    show_default=True,
    metavar="MODE",
    help="forever: a daemon must be alive; oneshot: `jobs run` from cron.",
)
@click.option(
    "--warning",
    "warning_age",
    metavar="AGE",
    help="Heartbeat (or last one-shot run) age that warns [30s; oneshot 10m].",
)
@click.option(
    "--critical", "critical_age", metavar="AGE", help="Age that is critical [120s; oneshot 30m]."
)
@pass_app
def check(
    app: App,
    checks: str,
    jobs: tuple[str, ...],
    tags: tuple[str, ...],
    excluded: tuple[str, ...],
    overdue: str,
    runner_mode: str,
    warning_age: str | None,
    critical_age: str | None,
) -> None:
    """Judge the jobs and the runner; exit 0/1/2/3 for OK/WARNING/CRITICAL/UNKNOWN.

    Prints one status line with perfdata, then a line per problem. A job that has never
    run is not a failure; a job waiting for its time period is not overdue.

    \b
    Examples:
      director health check
      director health check --check jobs --tag nightly --exclude scratch
      sudo -u nagios director health check --runner-mode oneshot --warning 15m
    """
    try:
        options = hc.options_from(
            checks=checks,
            jobs=jobs,
            tags=tags,
            excluded=excluded,
            overdue=overdue,
            runner_mode=runner_mode,
            warning_age=warning_age,
            critical_age=critical_age,
        )
    except InvalidInput as exc:
        _finish(hc.unknown(str(exc)))
    _finish(hc.checked(options, lambda: _look(app, options)))


def _look(app: App, options: hc.CheckOptions) -> hc.Report:
    """The check through the repositories: settings, then the database (opened, migrated)."""
    timezone = app.settings.timezone
    periods = _PeriodsOnDemand(app, timezone)
    judge = hc.HealthCheck(hc.DatabaseData(app.database), app.clock, periods, timezone, options)
    judge.refuse_unknown()
    return judge.report()


class _PeriodsOnDemand:
    """The time periods, loaded only when a job names one: the period service's imports
    cost more than the whole check of a set-up without periods."""

    def __init__(self, app: App, timezone: str) -> None:
        self.app = app
        self.timezone = timezone
        self._service: Any = None

    def period(self, name: str) -> Any:
        """The period `name` (NotFound when there is none)."""
        if self._service is None:
            from director_jobs.services.periods import PeriodService

            self._service = PeriodService(self.app.database, self.app.clock, self.timezone)
        return self._service.period(name)


def _finish(report: hc.Report) -> NoReturn:
    """Print the plugin's output and exit with its state."""
    click.echo(report.text())
    raise SystemExit(report.state)
