"""`director health check`: a monitoring plugin for Icinga (or any Nagios-style monitor)."""

from __future__ import annotations

from typing import Any, NoReturn

import click

from director_jobs.cli.app import App
from director_jobs.cli.root import root
from director_jobs.errors import DatabaseUnavailable, DirectorJobsError, InvalidInput
from director_jobs.services import health_check as hc
from director_jobs.validation import parse_duration

pass_app = click.make_pass_decorator(App, ensure=True)


@root.group()
def health() -> None:
    """Health checks for monitoring."""


@health.command("check")
@click.option(
    "--check",
    "checks",
    default="jobs,runner,database",
    show_default=True,
    metavar="CHECKS",
    help="Comma-separated checks: jobs, runner, database.",
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
    default="2x",
    show_default=True,
    metavar="FACTOR",
    help="A job is overdue this many intervals (or cron slots) after its start.",
)
@click.option(
    "--runner-mode",
    default="forever",
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
        options = _options(
            checks, jobs, tags, excluded, overdue, runner_mode, warning_age, critical_age
        )
    except InvalidInput as exc:
        _finish(hc.unknown(str(exc)))
    try:
        timezone = app.settings.timezone
        periods = _PeriodsOnDemand(app, timezone)
        judge = hc.HealthCheck(app.database, app.clock, periods, timezone, options)
        judge.refuse_unknown()
        report = judge.report()
    except InvalidInput as exc:
        report = hc.unknown(str(exc))
    except DatabaseUnavailable as exc:
        report = hc.unknown(f"database unreachable: {exc}")
        if "database" in options.checks:
            report.findings[0] = hc.Finding(hc.CRITICAL, report.findings[0].text)
    except DirectorJobsError as exc:
        report = hc.unknown(str(exc))
    _finish(report)


def _options(
    checks: str,
    jobs: tuple[str, ...],
    tags: tuple[str, ...],
    excluded: tuple[str, ...],
    overdue: str,
    runner_mode: str,
    warning_age: str | None,
    critical_age: str | None,
) -> hc.CheckOptions:
    """The options checked and converted; InvalidInput naming the first bad one."""
    selected = [c.strip() for c in checks.split(",") if c.strip()]
    for name in selected or [checks]:
        if name not in hc.CHECKS:
            raise InvalidInput("--check", name, f"known checks: {', '.join(hc.CHECKS)}")
    if runner_mode not in hc.RUNNER_MODES:
        raise InvalidInput("--runner-mode", runner_mode, "expected forever or oneshot")
    factor_text = overdue.removesuffix("x")
    try:
        factor = float(factor_text)
    except ValueError:
        factor = 0.0
    if not factor >= 1:  # also refuses nan
        raise InvalidInput("--overdue", overdue, "expected a factor of 1 or more, e.g. 2x")
    defaults = hc.FOREVER_AGE if runner_mode == "forever" else hc.ONESHOT_AGE
    warn = parse_duration(warning_age, "--warning") if warning_age else defaults[0]
    crit = parse_duration(critical_age, "--critical") if critical_age else defaults[1]
    if crit < warn:
        raise InvalidInput("--critical", critical_age, "shorter than --warning")
    return hc.CheckOptions(
        checks=tuple(selected),
        jobs=jobs,
        tags=tags,
        excluded=excluded,
        overdue_factor=factor,
        runner_mode=runner_mode,
        age_warning=warn,
        age_critical=crit,
    )


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
