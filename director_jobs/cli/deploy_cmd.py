"""`director deployments …` and `director config render`: Icinga 2 configuration."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from director_jobs import exit_codes
from director_jobs.cli.app import App
from director_jobs.cli.pipeline import config, deployments
from director_jobs.cli.render import local, print_json, table
from director_jobs.deploy.commands import CommandRunner
from director_jobs.deploy.directory import check_ours, install, write_files
from director_jobs.deploy.dsl import MacroPolicy
from director_jobs.deploy.render import RenderedConfig, checksum, render, zone_prefix
from director_jobs.deploy.store import Deployment, DeploymentStore, load_objects
from director_jobs.deploy.validate import (
    DEFAULT_COMMAND,
    DEFAULT_INCLUDES,
    ValidatorMissing,
    validate_tree,
)
from director_jobs.errors import DirectorJobsError, InvalidInput
from director_jobs.services.shapes import iso

pass_app = click.make_pass_decorator(App, ensure=True)
# `config render --validate`: how long icinga2 may take.
VALIDATE_TIMEOUT_SECONDS = 300.0


def deployment_json(deployment: Deployment, *, with_output: bool = False) -> dict[str, Any]:
    """The stable JSON shape of a deployment (scripts rely on these keys)."""
    data: dict[str, Any] = {
        "id": deployment.id,
        "job": deployment.job_name,
        "target": deployment.target,
        "status": deployment.status.value,
        "checksum": deployment.checksum,
        "files": deployment.files,
        "stage": deployment.stage,
        "started_at": iso(deployment.started_at),
        "finished_at": iso(deployment.finished_at),
        "duration": deployment.duration,
    }
    if with_output:
        data["output"] = deployment.output
    return data


@deployments.command("list")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: App, limit: int, as_json: bool) -> None:
    """The newest deployments, newest first.

    \b
    Examples:
      director deployments list
      director deployments list --json
    """
    found = DeploymentStore(app.database.engine).recent(limit)
    if as_json:
        print_json([deployment_json(d) for d in found])
        return
    if not found:
        click.echo("no deployments yet")
        return
    zone = app.settings.timezone
    table(
        ("ID", "STARTED", "JOB", "TARGET", "STATUS", "FILES", "DURATION", "CHECKSUM"),
        [
            (
                d.id,
                local(d.started_at, zone),
                d.job_name,
                d.target,
                d.status.value,
                len(d.files),
                f"{d.duration:.2f}s",
                d.checksum[:12] or None,
            )
            for d in found
        ],
    )


@deployments.command("show")
@click.argument("deployment_id", metavar="ID", type=click.IntRange(1, 2**63 - 1))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: App, deployment_id: int, as_json: bool) -> None:
    """One deployment with its validation output or the stage's startup log.

    \b
    Examples:
      director deployments show 12
    """
    deployment = DeploymentStore(app.database.engine).get(deployment_id)
    if as_json:
        print_json(deployment_json(deployment, with_output=True))
        return
    zone = app.settings.timezone
    for label, value in (
        ("id", deployment.id),
        ("job", deployment.job_name or "-"),
        ("target", deployment.target),
        ("status", deployment.status.value),
        ("checksum", deployment.checksum or "-"),
        ("stage", deployment.stage or "-"),
        ("started", local(deployment.started_at, zone)),
        ("finished", local(deployment.finished_at, zone)),
        ("duration", f"{deployment.duration:.3f}s"),
        ("files", ", ".join(deployment.files) or "-"),
    ):
        click.echo(f"{label + ':':<10} {value}")
    click.echo("output:")
    for line in deployment.output.splitlines() or ["(none)"]:
        click.echo(f"  {line}")


@config.command("render")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Write into a non-empty DIR (replacing our files).")
@click.option(
    "--zone", default=None, metavar="ZONE", help="Use the API layout: files in DIR/zones.d/ZONE/."
)
@click.option(
    "--escape-macros",
    type=click.Choice([p.value for p in MacroPolicy]),
    default=MacroPolicy.UNBALANCED.value,
    show_default=True,
    help="`$` in custom variables (see the config-deploy parameter).",
)
@click.option("--validate", is_flag=True, help="Validate the result with `icinga2 daemon -C`.")
@click.option(
    "--job-services",
    is_flag=True,
    help="Add a Service per job for the passive results of the [icinga] channel.",
)
@pass_app
def render_(
    app: App,
    directory: Path,
    force: bool,
    zone: str | None,
    escape_macros: str,
    validate: bool,
    job_services: bool,
) -> None:
    """Write the configuration of the stored objects into DIR, without deploying it.

    \b
    Examples:
      director config render /tmp/preview --validate
      director config render /tmp/api --zone master
      director config render /etc/icinga2/zones.d/master/jobs --job-services
    """
    prefix = ""
    if zone is not None:
        try:
            prefix = zone_prefix(zone)
        except ValueError as exc:
            raise InvalidInput("zone", zone, str(exc)) from None
    _check_directory(directory, force)
    check_ours(directory, prefix)
    rendered = render(load_objects(app.database.engine), prefix, MacroPolicy(escape_macros))
    if job_services:
        rendered = _with_job_services(app, rendered, prefix)
    target = directory.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.render-"))
    try:
        write_files(staging, rendered.files)
        install(staging, target, rendered.files, prefix)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for path in rendered.paths:
        click.echo(f"wrote {target / path}")
    click.echo(
        f"{rendered.object_count} objects in {len(rendered.files)} files, "
        f"checksum {rendered.checksum}"
    )
    if validate:
        _validate(target)


def _with_job_services(app: App, rendered: RenderedConfig, prefix: str) -> RenderedConfig:
    """`rendered` plus the Service objects for the jobs' passive check results."""
    from director_jobs.notify.config import IcingaChannel
    from director_jobs.notify.icinga_services import FILE_NAME, render_services
    from director_jobs.schedule import schedule_of
    from director_jobs.services.periods import PeriodService

    channels = app.settings.notify.channels if app.settings.notify else ()
    channel = next((c for c in channels if isinstance(c, IcingaChannel)), None)
    if channel is None:
        raise InvalidInput(
            "job-services", "on", "the configuration has no [icinga] table naming the host"
        )
    tz = app.settings.timezone
    text = render_services(
        app.database.jobs.all(),
        channel,
        lambda job: schedule_of(job.spec.interval, job.spec.cron, job.spec.timezone, tz),
        PeriodService(app.database, app.clock, tz),
        app.clock.now(),
    )
    files = {**rendered.files, prefix + FILE_NAME: text}
    return RenderedConfig(files, checksum(files), rendered.object_count + text.count("object "))


def _check_directory(directory: Path, force: bool) -> None:
    """DIR must be a directory or not exist; non-empty only with --force."""
    if directory.exists() and not directory.is_dir():
        raise InvalidInput("DIR", str(directory), "exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise InvalidInput("DIR", str(directory), "is not empty; use --force to write into it")


def _validate(target: Path) -> None:
    """Run icinga2 on the written tree; exit 1 when it rejects the configuration."""
    try:
        result = validate_tree(
            target,
            command=DEFAULT_COMMAND,
            includes=DEFAULT_INCLUDES,
            runner=CommandRunner(),
            timeout=VALIDATE_TIMEOUT_SECONDS,
        )
    except ValidatorMissing:
        raise DirectorJobsError(
            "--validate: icinga2 is not installed (apt-get install icinga2)"
        ) from None
    click.echo(result.output)
    if not result.ok:
        click.echo(f"director: error: {result.reason}", err=True)
        raise SystemExit(exit_codes.JOB_FAILED)
    click.echo("valid")
