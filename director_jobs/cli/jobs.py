"""`director jobs …`: define, inspect and run jobs."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from director_jobs import exit_codes
from director_jobs.cli.app import App
from director_jobs.cli.render import (
    Painted,
    duration_text,
    local,
    print_json,
    schedule_text,
    state_text,
    table,
)
from director_jobs.cli.root import log_options, root
from director_jobs.errors import DirectorJobsError, InvalidInput
from director_jobs.job_types.base import parse_parameters_json
from director_jobs.logs import TRACE
from director_jobs.model import (
    DEFAULT_RETRY_DELAY,
    DEFAULT_TIMEOUT,
    JobSpec,
    RunStatus,
    RunSummary,
)
from director_jobs.services.shapes import (
    detail_json,
    iso,
    masked_parameters,
    overview_json,
    run_json,
)
from director_jobs.validation import command_words, parse_duration

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("director_jobs.cli")
pass_app = click.make_pass_decorator(App, ensure=True)

# How long `jobs run NAME` waits for a yes/no on a job that asks for confirmation.
CONFIRM_TIMEOUT_SECONDS = 30.0


@root.group()
def jobs() -> None:
    """Define, inspect and run jobs."""


def _service(app: App, actor: str | None = None) -> Any:
    """The job service (imported lazily: `jobs run` does not need it); changes are logged
    as made by `actor`, by default this Unix user."""
    from director_jobs.services.activity import unix_actor
    from director_jobs.services.jobs import JobService

    return JobService(
        app.database,
        app.registry,
        app.clock,
        app.settings.timezone,
        _periods(app),
        actor=actor or unix_actor(),
    )


def _periods(app: App) -> Any:
    """The time periods of this database (the runner re-reads them every pass)."""
    from director_jobs.services.periods import PeriodService

    return PeriodService(app.database, app.clock, app.settings.timezone)


def _runner(app: App, *, forever: bool = False) -> Any:
    """A runner on the app's database; the daemon runs every Python job type in a child."""
    from director_jobs.execution.containment import Containment
    from director_jobs.execution.isolation import Isolation
    from director_jobs.runner import Runner

    runner = Runner(
        app.database,
        app.registry,
        app.clock,
        default_timezone=app.settings.timezone,
        periods=_periods(app),
        isolation=Isolation.DAEMON if forever else Isolation.BY_TYPE,
        containment=Containment.detect(app.settings.containment),
    )
    _attach_notifications(app, runner, forever=forever)
    return runner


def _attach_notifications(app: App, runner: Any, *, forever: bool) -> None:
    """With channels in the configuration, the runner notes events and a child sends them."""
    if not app.settings.notify:
        return
    from director_jobs.notify.runner_events import DAEMON_DRAIN_SECONDS, Notifications
    from director_jobs.notify.worker import DRAIN_SECONDS

    runner.events = Notifications(
        app.settings,
        app.database,
        app.clock,
        runner.identity,
        drain_seconds=DAEMON_DRAIN_SECONDS if forever else DRAIN_SECONDS,
    )


# -- running --------------------------------------------------------------------------


@jobs.command("run")
@click.argument("names", nargs=-1)
@click.option("--forever", is_flag=True, help="Keep running: start jobs as they become due.")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Run every enabled job with this tag now, in definition order (repeatable: any).",
)
@click.option(
    "--yes", "assume_yes", is_flag=True, help="Do not ask before running a job that asks."
)
@click.option(
    "--force",
    is_flag=True,
    help="With job names: let an import shrink and a sync purge past their limits, once.",
)
@click.option(
    "--confirm-timeout",
    type=float,
    default=CONFIRM_TIMEOUT_SECONDS,
    show_default=True,
    hidden=True,
    help="Seconds to wait for a yes/no answer.",
)
@click.option(
    "--stop-timeout",
    default="30s",
    show_default=True,
    metavar="DURATION",
    help="--forever: on SIGTERM, how long the running job may take before it is killed.",
)
@click.option(
    "--max-memory-growth",
    type=float,
    default=100.0,
    show_default=True,
    metavar="MIB",
    help="--forever: exit 0 (for a restart) when RSS grew this much since start; 0 = off.",
)
@click.option(
    "--max-memory",
    type=float,
    default=0.0,
    metavar="MIB",
    help="--forever: exit 0 (for a restart) above this RSS; 0 = off (default).",
)
@click.option(
    "--max-lifetime",
    default="0",
    metavar="DURATION",
    help="--forever: exit 0 (for a restart) after running this long (e.g. 1d); 0 = off.",
)
@click.option(
    "--look-every",
    default="1.5s",
    show_default=True,
    metavar="DURATION",
    help="--forever: look for triggered and changed jobs this often besides wake-ups.",
)
@log_options
@pass_app
def run(
    app: App,
    names: tuple[str, ...],
    forever: bool,
    tags: tuple[str, ...],
    assume_yes: bool,
    force: bool,
    confirm_timeout: float,
    stop_timeout: str,
    max_memory_growth: float,
    max_memory: float,
    max_lifetime: str,
    look_every: str,
) -> None:
    """Run pending jobs once (no NAMES), the named or tagged jobs now, or forever.

    \b
    Examples:
      director jobs run
      director jobs run --tag backup
      director jobs run --forever --verbose
    """
    app.start_logging()
    log.debug("settings: %s", app.settings.describe())
    if sum(map(bool, (names, forever, tags))) > 1:
        raise click.UsageError("give job names, --tag or --forever, not two of them")
    if force and not (names or tags):
        raise click.UsageError("--force needs job names or --tag: it is for one manual run")
    if tags:
        names = tuple(job.name for job in _service(app).tagged(tags))
        if not names:
            click.echo(f"director: no enabled job has the tag {', '.join(tags)}", err=True)
            return
    if forever:
        options = _daemon_options(
            stop_timeout, max_memory_growth, max_memory, max_lifetime, look_every
        )
        raise SystemExit(_run_forever(app, options))
    from director_jobs.runner import PassReport, stopped_by_signals

    runner = _runner(app)
    jobs_to_run = [app.database.jobs.get(name) for name in dict.fromkeys(names)]
    for job in jobs_to_run:
        asks = job.spec.confirm or job.spec.disabled
        if asks and not assume_yes and not _confirm(job, confirm_timeout):
            click.echo(f"director: not running {job.name}", err=True)
            raise SystemExit(exit_codes.JOB_FAILED)
        if job.spec.disabled:
            click.echo(f"director: note: {job.name} is disabled; running it as asked", err=True)
    registration = runner.registration("one-shot")
    registration.start()
    runner.heartbeat = registration.beat
    report = PassReport()
    try:
        with stopped_by_signals(runner.stop_requested, runner.cancel_current) as received:
            if names:
                report = runner.run_now((job.name for job in jobs_to_run), force=force)
            else:
                runner.run_once(report)
    finally:
        runner.close()
        registration.stop()
    if received:
        log.warning("stopped by signal %d; the running job was stopped", received[0])
        raise SystemExit(exit_codes.SIGNALLED + received[0])
    raise SystemExit(exit_codes.JOB_FAILED if report.failed else exit_codes.OK)


def _daemon_options(
    stop_timeout: str,
    max_memory_growth: float,
    max_memory: float,
    max_lifetime: str,
    look_every: str,
) -> Any:
    """Validate the --forever options."""
    from director_jobs.daemon import DaemonOptions

    for option, value in (("max-memory-growth", max_memory_growth), ("max-memory", max_memory)):
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(option, value, "expected MiB >= 0 (0 = off)")
    lifetime = parse_duration(max_lifetime, "max-lifetime", allow_zero=True)
    return DaemonOptions(
        stop_timeout=parse_duration(stop_timeout, "stop-timeout", allow_zero=True),
        max_memory_growth_mib=max_memory_growth or None,
        max_memory_mib=max_memory or None,
        max_lifetime_seconds=lifetime or None,
        look_seconds=parse_duration(look_every, "look-every"),
    )


def _run_forever(app: App, options: Any) -> int:
    """Hand over to the daemon; it opens the database itself (and retries while it is down)."""
    from director_jobs.daemon import Daemon

    def reload(runner: Any) -> None:
        old = app.settings
        app.reset_settings()
        try:
            new = app.settings
        except DirectorJobsError as exc:
            log.error("SIGHUP: configuration not reloaded: %s", exc)
            app.restore_settings(old)
            return
        app.start_logging()
        if new.notify != old.notify:  # channels, URLs or secrets changed: a new sender
            from director_jobs.runner import NoEvents

            runner.events.close()
            runner.events = NoEvents()
            _attach_notifications(app, runner, forever=True)
        runner.default_timezone = new.timezone
        if runner.periods is not None:
            runner.periods.default_timezone = new.timezone
            runner.periods.refresh()
        if new.database_url != old.database_url:
            log.warning("SIGHUP: database_url changed; restart the service to use it")
        log.warning("SIGHUP: configuration reloaded: %s", new.describe())

    return Daemon(lambda: _runner(app, forever=True), options, reload=reload).run()


def _confirm(job: Any, timeout: float) -> bool:
    """Ask `Do you really want to run NAME (yes/no)`; no answer within `timeout` means no.

    A disabled job is asked about too, saying that it is disabled.
    """
    state = f"{job.name} is disabled. " if job.spec.disabled else ""
    click.echo(f"{state}Do you really want to run {job.name} (yes/no) ", nl=False)
    answer = _read_line(timeout)
    if answer is None:
        click.echo("")
        click.echo(f"director: no answer within {timeout:g} s", err=True)
        return False
    return answer.strip().lower() in ("yes", "y")


def _read_line(timeout: float) -> str | None:
    """One line from stdin, or None on timeout or end of input.

    Reads the descriptor a byte at a time: a buffered read would swallow answers typed
    ahead for the next question, where select() can no longer see them.
    """
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):  # not a real file (e.g. in tests): just read
        return sys.stdin.readline() or None
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        byte = os.read(fd, 1)
        if not byte:
            break
        data += byte
    return data.decode("utf-8", "replace") or None


@jobs.command("execute")
@click.argument("type_name", metavar="TYPE")
@click.option(
    "--parameters",
    "parameters_json",
    default="{}",
    metavar="JSON",
    help="Parameters as a JSON object.",
)
@click.option(
    "--timeout",
    default=str(int(DEFAULT_TIMEOUT)),
    metavar="DURATION",
    show_default=True,
    help="Stop after this long (e.g. 30s, 5m).",
)
@click.option("--hide-duration", is_flag=True, help="Do not print how long it took.")
@log_options
@pass_app
def execute(
    app: App, type_name: str, parameters_json: str, timeout: str, hide_duration: bool
) -> None:
    """Run a job type once without a job definition (recorded with trigger `execute`).

    \b
    Examples:
      director jobs execute self-check
      director jobs execute command --parameters '{"command": "uptime"}' --timeout 30s
    """
    from director_jobs.services.adhoc import execute_adhoc

    app.raise_log_level("info", asked=False)
    app.start_logging(timestamps=False)
    # The job's own lines at every level, TRACE included, as OpenTalk's `jobs execute` shows.
    logging.getLogger("director_jobs.job").setLevel(TRACE)
    from director_jobs.execution.containment import Containment
    from director_jobs.runner import stopped_by_signals

    params = parse_parameters_json(parameters_json)
    seconds = parse_duration(timeout, "timeout")
    cancel = threading.Event()
    with stopped_by_signals(cancel) as received:
        outcome, duration = execute_adhoc(
            app.database,
            app.registry,
            app.clock,
            type_name,
            params,
            seconds,
            cancel=cancel,
            containment=Containment.detect(app.settings.containment),
        )
    if received:
        click.echo(f"director: error: stopped by signal {received[0]}", err=True)
        raise SystemExit(exit_codes.SIGNALLED + received[0])
    if outcome.status is RunStatus.SUCCESS:
        log.info("Job finished successfully")
    else:
        log.error("Job failed: %s", outcome.error)
        click.echo(f"director: error: {outcome.error}", err=True)
    if not hide_duration:
        log.info("Duration: %.3f s", duration)
    raise SystemExit(
        exit_codes.OK if outcome.status is RunStatus.SUCCESS else exit_codes.JOB_FAILED
    )


# -- defining -----------------------------------------------------------------------------


def _definition_options(*, for_set: bool) -> Callable[[F], F]:
    """The options shared by `add` and `set` (in `set`, every one is optional)."""

    def decorate(command: F) -> F:
        options = [
            click.option(
                "--type",
                "type_name",
                required=not for_set,
                metavar="TYPE",
                help="Job type (see `jobs types`).",
            ),
            click.option(
                "--parameters",
                "parameters_json",
                metavar="JSON",
                help="Parameters as a JSON object.",
            ),
            click.option(
                "--interval",
                metavar="DURATION",
                help="Run every … (e.g. 900, 15m, 1h30m; at least 1s); from the last start.",
            ),
            click.option(
                "--cron", metavar="EXPR", help="Cron expression (5 fields or @hourly, @daily, …)."
            ),
            click.option(
                "--timezone",
                "job_timezone",
                metavar="TZ",
                help="Time zone of the cron expression.",
            ),
            click.option(
                "--timeperiod", metavar="PERIOD", help="Start only inside this time period."
            ),
            click.option(
                "--timeout", metavar="DURATION", help="Kill the job after this long (default 1h)."
            ),
            click.option("--retries", type=int, help="Extra attempts after a failure (default 0)."),
            click.option(
                "--retry-delay",
                metavar="DURATION",
                help="Delay before the first retry, doubled each time (default 60s).",
            ),
            click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag (repeatable)."),
            click.option("--description", help="What the job is for."),
            click.option("--confirm/--no-confirm", default=None, help="Ask before manual runs."),
            click.option("--disabled/--enabled", default=None, help="Create or set disabled."),
            click.option(
                "--memory-limit",
                type=float,
                metavar="MIB",
                help="Kill the job when its processes use more RSS than this (0 = no limit).",
            ),
            click.option(
                "--requires-command",
                metavar="COMMAND",
                help="Start only when this command exits 0 (split like a shell line; '' = none).",
            ),
            click.option(
                "--requires-path",
                metavar="PATH",
                help="Start only when this absolute path exists ('' = none).",
            ),
        ]
        if for_set:
            options.append(
                click.option(
                    "--no-schedule", is_flag=True, help="Remove the schedule (manual only)."
                )
            )
            options.append(
                click.option("--no-timeperiod", is_flag=True, help="Remove the time period.")
            )
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _changes(values: dict[str, Any]) -> dict[str, Any]:
    """Turn the given options into JobSpec field changes, parsing each one."""
    changes = _schedule_changes(values)
    if values.get("type_name") is not None:
        changes["type"] = values["type_name"]
    if values.get("parameters_json") is not None:
        changes["parameters"] = parse_parameters_json(values["parameters_json"])
    for option, name in (
        ("job_timezone", "timezone"),
        ("timeperiod", "timeperiod"),
        ("description", "description"),
        ("retries", "retries"),
        ("confirm", "confirm"),
        ("disabled", "disabled"),
    ):
        if values.get(option) is not None:
            changes[name] = values[option]
    if values.get("no_timeperiod"):
        changes["timeperiod"] = None
    if values.get("timeout") is not None:
        changes["timeout"] = parse_duration(values["timeout"], "timeout")
    if values.get("retry_delay") is not None:
        changes["retry_delay"] = parse_duration(
            values["retry_delay"], "retry-delay", allow_zero=True
        )
    if values.get("tags"):
        changes["tags"] = tuple(values["tags"])
    if values.get("memory_limit") is not None:
        limit = values["memory_limit"]
        if limit < 0:
            raise InvalidInput("memory-limit", limit, "expected MiB > 0 (0 removes the limit)")
        changes["memory_limit"] = limit or None
    return changes | _precondition_changes(values)


def _precondition_changes(values: dict[str, Any]) -> dict[str, Any]:
    """--requires-command and --requires-path as changes ('' removes one)."""
    changes: dict[str, Any] = {}
    if values.get("requires_command") is not None:
        changes["requires_command"] = command_words(values["requires_command"], "requires-command")
    if values.get("requires_path") is not None:
        changes["requires_path"] = values["requires_path"] or None
    return changes


def _schedule_changes(values: dict[str, Any]) -> dict[str, Any]:
    """--interval, --cron and --no-schedule as changes (one schedule replaces the other)."""
    interval, cron = values.get("interval"), values.get("cron")
    if interval is not None and cron is not None:
        raise InvalidInput("cron", cron, "give either --interval or --cron, not both")
    if interval is not None:
        return {"interval": parse_duration(interval, "interval"), "cron": None}
    if cron is not None:
        return {"cron": cron, "interval": None}
    if values.get("no_schedule"):
        return {"interval": None, "cron": None}
    return {}


@jobs.command("add")
@click.argument("name")
@_definition_options(for_set=False)
@pass_app
def add(app: App, /, name: str, **values: Any) -> None:
    """Define a new job.

    \b
    Examples:
      director jobs add disk --type command --parameters '{"command": "df /"}' --interval 1h
      director jobs add nightly --type housekeeping --cron '30 3 * * *' --timeperiod nights
    """
    base = JobSpec(name=name, type="", timeout=DEFAULT_TIMEOUT, retry_delay=DEFAULT_RETRY_DELAY)
    spec = dataclasses.replace(base, **_changes(values))
    job = _service(app).add(spec)
    click.echo(
        f"added job {job.name} ({job.spec.type}, {schedule_text(job)}); "
        f"next due {local(job.next_due_at, app.settings.timezone)}"
    )


@jobs.command("set")
@click.argument("name")
@_definition_options(for_set=True)
@pass_app
def set_(app: App, /, name: str, **values: Any) -> None:
    """Change fields of a job (only those given).

    \b
    Examples:
      director jobs set disk-usage --interval 30m
      director jobs set nightly --no-timeperiod
    """
    changes = _changes(values)
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    job = _service(app).update(name, **changes)
    click.echo(f"updated job {job.name}; next due {local(job.next_due_at, app.settings.timezone)}")


@jobs.command("delete")
@click.argument("name")
@pass_app
def delete(app: App, name: str) -> None:
    """Delete a job (its run history stays).

    \b
    Examples:
      director jobs delete disk-usage
    """
    _service(app).delete(name)
    click.echo(f"deleted job {name}")


@jobs.command("enable")
@click.argument("name")
@pass_app
def enable(app: App, name: str) -> None:
    """Let the runner start the job again.

    \b
    Examples:
      director jobs enable tmp-cleanup
    """
    _service(app).set_disabled(name, False)
    click.echo(f"enabled job {name}")


@jobs.command("disable")
@click.argument("name")
@pass_app
def disable(app: App, name: str) -> None:
    """Stop the runner from starting the job (a running attempt finishes).

    \b
    Examples:
      director jobs disable tmp-cleanup
    """
    _service(app).set_disabled(name, True)
    click.echo(f"disabled job {name}")


@jobs.command("trigger")
@click.argument("name", required=False)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Trigger every enabled job with this tag, in definition order (repeatable: any).",
)
@click.option(
    "--parameters",
    "parameters_json",
    metavar="JSON",
    help="Parameters for this run only, merged over the job's (null: the type's default).",
)
@pass_app
def trigger(app: App, name: str | None, tags: tuple[str, ...], parameters_json: str | None) -> None:
    """Queue a run now, for the daemon (or the next `jobs run`) to start.

    While the job runs, the queued run starts after the current one. Triggers before
    it starts join it (with other --parameters they are refused).

    \b
    Examples:
      director jobs trigger deploy-config
      director jobs trigger cleanup --parameters '{"older_than": "7d"}'
      director jobs trigger --tag backup
    """
    if (name is None) == (not tags):
        raise click.UsageError("give a job name or --tag, one of the two")
    parameters = None if parameters_json is None else parse_parameters_json(parameters_json)
    service = _service(app)
    names = [name] if name is not None else [job.name for job in service.tagged(tags)]
    if not names:
        click.echo(f"director: no enabled job has the tag {', '.join(tags)}", err=True)
        return
    if parameters and len(names) > 1:
        for each in names:  # all fit, or none is queued
            service.check_parameters(each, parameters)
    now = f"director jobs run {name}" if name else "director jobs run " + _tag_options(tags)
    for number, each in enumerate(names, start=1):
        queued = service.trigger(each, queue=True, parameters=parameters)
        run = f"run {queued.run.id} of {each}"
        done = (
            f"{run} was queued already, this trigger joins it" if queued.joined else f"queued {run}"
        )
        if number < len(names):
            click.echo(done)  # at once: should a later one be refused, these are known
        else:
            click.echo(f"{done}; {_who_starts(app, 'it' if number == 1 else 'them', now)}")


def _tag_options(tags: tuple[str, ...]) -> str:
    """`--tag a --tag b`, as the user gave them."""
    return " ".join(f"--tag {tag}" for tag in tags)


def _who_starts(app: App, what: str, run_now: str) -> str:
    """Which runner starts queued runs: a live --forever one, or the next one-shot run."""
    from director_jobs.services.status import StatusService

    forever = [
        r for r in StatusService(app.database, app.clock).live_runners() if r.mode == "forever"
    ]
    if forever:
        beat = (app.clock.now() - forever[0].heartbeat_at).total_seconds()
        return (
            f"runner {forever[0].label} (--forever, heartbeat {beat:.0f} s ago) starts "
            f"{what} within seconds"
        )
    return (
        f"no runner runs --forever, so the next `director jobs run` (cron or a timer) starts "
        f"{what}; to run {what} now: {run_now}"
    )


@jobs.command("stop")
@click.argument("name")
@click.option(
    "--wait",
    "wait_seconds",
    default="30s",
    show_default=True,
    metavar="DURATION",
    help="How long to wait for the runner to confirm; 0: do not wait.",
)
@pass_app
def stop(app: App, name: str, wait_seconds: str) -> None:
    """Stop the job's run in progress, from any shell on any host of its database.

    The runner that holds the run kills the job (its cgroup or process tree) within
    about a second and records the run `stopped`, with who stopped it.

    \b
    Examples:
      director jobs stop import-cmdb
      director jobs stop import-cmdb --wait 0
    """
    import getpass
    import time

    from director_jobs.services.runs import RunService

    patience = parse_duration(wait_seconds, "wait", allow_zero=True)
    service = RunService(app.database, app.clock, app.settings.timezone)
    run = service.stop_job(name, f"cli:{getpass.getuser()}")
    if run.started_at is None:  # a queued run that had not started: cancelled at once
        click.echo(f"cancelled run {run.id} of {name} (queued, it had not started)")
        return
    click.echo(f"asked runner {run.runner} to stop run {run.id} of {name}")
    deadline = time.monotonic() + patience
    while patience and time.monotonic() < deadline:
        run = service.get(run.id)
        if run.status is not RunStatus.RUNNING:
            click.echo(f"run {run.id} of {name}: {run.status.value} ({run.error})")
            return
        time.sleep(0.1)
    if patience:
        raise DirectorJobsError(
            f"job: run {run.id} of {name!r} still runs after {wait_seconds}; is its runner "
            f"{run.runner} alive? (director status)"
        )


# -- inspecting -------------------------------------------------------------------------------


@jobs.command("list")
@click.option(
    "--tag", "tags", multiple=True, metavar="TAG", help="Only jobs with this tag (repeatable: any)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: App, tags: tuple[str, ...], as_json: bool) -> None:
    """List the jobs.

    \b
    Examples:
      director jobs list
      director jobs list --tag backup
      director jobs list --json
    """
    service = _service(app)
    views = service.overview()
    if tags:
        service.check_tags(tags, [view.job for view in views])
        views = [view for view in views if set(tags) & set(view.job.spec.tags)]
    if as_json:
        print_json([overview_json(view) for view in views])
        return
    tz = app.settings.timezone
    table(
        (
            "NAME",
            "TYPE",
            "SCHEDULE",
            "PERIOD",
            "STATE",
            "LAST RUN",
            "LAST RESULT",
            "NEXT START",
        ),
        [
            (
                view.job.name,
                view.job.spec.type,
                schedule_text(view.job),
                view.job.spec.timeperiod,
                state_text(view.job),
                *_last_run_cells(view.last_run, tz),
                local(view.next_start, tz),
            )
            for view in views
        ],
    )


def _last_run_cells(last: RunSummary | None, tz: str) -> tuple[str | None, Any]:
    """LAST RUN (when it started, else ended) and LAST RESULT (red when it failed)."""
    if last is None:
        return None, None
    result = Painted(last.status.value, "red") if last.status.failed else last.status.value
    return local(last.started_at or last.finished_at, tz), result


@jobs.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: App, name: str, as_json: bool) -> None:
    """Show one job: definition, effective parameters, state and recent runs.

    \b
    Examples:
      director jobs show import-cmdb
    """
    detail = _service(app).detail(name)
    job, recent = detail.view.job, detail.recent_runs
    effective = detail.effective_parameters
    if as_json:
        print_json(detail_json(detail))
        return
    tz = app.settings.timezone
    spec = job.spec
    rows = [
        ("name", spec.name),
        ("type", spec.type),
        ("description", spec.description or "-"),
        ("schedule", schedule_text(job)),
        ("time period", spec.timeperiod or "-"),
        ("state", state_text(job)),
        ("next due", local(job.next_due_at, tz)),
        ("last attempt", local(job.last_attempt_at, tz)),
        ("timeout", duration_text(spec.timeout)),
        ("retries", f"{spec.retries} (first after {duration_text(spec.retry_delay)}, doubling)"),
        ("tags", ", ".join(spec.tags) or "-"),
        ("confirm", "yes" if spec.confirm else "no"),
        ("memory limit", f"{spec.memory_limit:g} MiB" if spec.memory_limit else "-"),
    ]
    if spec.requires_command:
        import shlex  # here: a cron `jobs run` imports this module and never shows a job

        rows.append(("requires", "`" + shlex.join(spec.requires_command) + "` to exit 0"))
    if spec.requires_path is not None:
        rows.append(("requires", f"{spec.requires_path} to exist"))
    for key, value in rows:
        click.echo(f"{key + ':':14} {value}")
    click.echo("parameters:")
    for key, value in masked_parameters(effective).items():
        marker = "" if key in spec.parameters else "  (default)"
        click.echo(f"  {key} = {value!r}{marker}")
    if recent:
        click.echo("recent runs:")
        for r in recent:
            said = r.error or (r.progress if r.status is RunStatus.RUNNING else None) or ""
            click.echo(
                f"  #{r.id} {r.status} {local(r.started_at or r.scheduled_for, tz)} {said}".rstrip()
            )
    if detail.notifications:
        click.echo("notifications:")
        for d in detail.notifications:
            answer = f" ({d.response_code})" if d.response_code is not None else ""
            when = local(d.delivered_at or d.sent_at or d.created_at, tz)
            if d.status == "pending" and d.next_attempt_at is not None:
                when += f", next at {local(d.next_attempt_at, tz)}"
            click.echo(
                f"  run #{d.run_id} {d.event} → {d.kind} {d.channel}: {d.status}{answer}, "
                f"attempt {d.attempts}, {when}{': ' + d.error if d.error else ''}"
            )


@jobs.command("history")
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True)
@click.option("--output", "with_output", is_flag=True, help="Include each run's output tail.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def history(app: App, name: str | None, limit: int, with_output: bool, as_json: bool) -> None:
    """Show runs, newest first (of one job, or of all).

    \b
    Examples:
      director jobs history
      director jobs history import-cmdb --limit 5 --output
    """
    from director_jobs.services.runs import RunService

    runs = RunService(app.database, app.clock).history(name, limit, with_output=with_output)
    if as_json:
        print_json([run_json(r, with_output=with_output) for r in runs])
        return
    tz = app.settings.timezone
    table(
        ("ID", "JOB", "STATUS", "TRIGGER", "ATTEMPT", "STARTED", "DURATION", "EXIT", "ERROR"),
        [
            (
                r.id,
                r.job_name,
                r.status,
                r.trigger,
                r.attempt,
                local(r.started_at or r.scheduled_for, tz),
                f"{r.duration:.2f}s" if r.duration is not None else None,
                r.exit_code,
                (r.error or "")[:80] or None,
            )
            for r in runs
        ],
    )
    if with_output:
        for r in runs:
            click.echo(f"--- run {r.id} output ---\n{r.output}")


@jobs.command("logs")
@click.argument("name")
@click.option("--run", "run_id", type=click.IntRange(1), metavar="ID", help="This run instead.")
@click.option("-f", "--follow", is_flag=True, help="Show new lines until the run ends.")
@pass_app
def logs(app: App, name: str, run_id: int | None, follow: bool) -> None:
    """Show the output of the job's run in progress (or the one queued), else its newest.

    With --follow, new lines appear as the job writes them (about half a second
    later, from any host of the database), and the command ends with the run: exit
    status 0 when it succeeded, 1 when it did not. Only the last 64 KiB of a run's
    output are kept; journald has all of it.

    \b
    Examples:
      director jobs logs import-cmdb
      director jobs logs import-cmdb --follow
      director jobs logs import-cmdb --run 4711
    """
    from director_jobs.services.runs import FOLLOW_POLL_SECONDS, RunService

    service = RunService(app.database, app.clock)
    run = service.get(run_id) if run_id is not None else service.run_to_show(name)
    if run.job_name != name:
        raise InvalidInput("run", run_id, f"run {run_id} is of job {run.job_name!r}, not {name!r}")
    seen = 0
    while True:
        if seen and service.nothing_new(run.id, seen):  # no output (64 KiB) read for nothing
            time.sleep(FOLLOW_POLL_SECONDS)
            continue
        chunk = service.log(run.id, seen)
        if chunk.missed:
            click.echo(f"[… {chunk.missed} lines dropped before they could be shown]")
        for line in chunk.lines:
            click.echo(line)
        seen = chunk.seen
        if not follow or chunk.ended:
            break
        time.sleep(FOLLOW_POLL_SECONDS)
    if follow:
        ended = chunk.run
        detail = f" ({ended.error})" if ended.error else ""
        click.echo(f"run {ended.id} of {name}: {ended.status.value}{detail}", err=True)
        failed = ended.status is not RunStatus.SUCCESS
        raise SystemExit(exit_codes.JOB_FAILED if failed else exit_codes.OK)


@jobs.command("next")
@click.argument("name")
@click.option(
    "-n", "--count", type=click.IntRange(1, 1000), default=5, show_default=True, help="How many."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def next_(app: App, name: str, count: int, as_json: bool) -> None:
    """Show when the job will next start (schedule and time period).

    \b
    Examples:
      director jobs next housekeeping -n 3
    """
    service = _service(app)
    times = service.upcoming(service.get(name), count)
    if as_json:
        print_json([iso(t) for t in times])
        return
    if not times:
        click.echo(f"{name} has no schedule: it runs only when started by hand or triggered")
    for t in times:
        click.echo(local(t, app.settings.timezone))


@jobs.command("types")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def types(app: App, as_json: bool) -> None:
    """List the job types with their descriptions.

    \b
    Examples:
      director jobs types
    """
    infos = app.registry.describe()
    if as_json:
        print_json(
            [{"name": i.name, "description": i.description, "origin": i.origin} for i in infos]
        )
        return
    table(("TYPE", "ORIGIN", "DESCRIPTION"), [(i.name, i.origin, i.description) for i in infos])


@jobs.command("default-parameters")
@click.argument("type_name", metavar="TYPE")
@pass_app
def default_parameters(app: App, type_name: str) -> None:
    """Print a type's parameters with their defaults as JSON.

    \b
    Examples:
      director jobs default-parameters import
    """
    print_json(app.registry.get(type_name).default_parameters())
