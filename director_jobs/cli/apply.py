"""`director apply FILE` and `director export`: definitions as TOML, for version control."""

from __future__ import annotations

from pathlib import Path

import click

from director_jobs.cli.app import App
from director_jobs.cli.jobs import _service
from director_jobs.cli.render import print_json
from director_jobs.cli.root import root
from director_jobs.declarative import (
    export_jobs,
    export_periods,
    load_file,
    parse_jobs,
    parse_periods,
)

pass_app = click.make_pass_decorator(App, ensure=True)


@root.command("apply")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--prune", is_flag=True, help="Delete jobs that the file does not define.")
@click.option("--dry-run", is_flag=True, help="Only report what would change.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def apply(app: App, file: Path, prune: bool, dry_run: bool, as_json: bool) -> None:
    """Create or update the jobs defined in FILE (TOML); a file with any error changes nothing."""
    data = load_file(file)
    report = _service(app).apply(
        parse_jobs(data), periods=parse_periods(data), prune=prune, dry_run=dry_run
    )
    if as_json:
        print_json(
            {
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "deleted": report.deleted,
                "timeperiods": {
                    "created": report.periods_created,
                    "updated": report.periods_updated,
                    "unchanged": report.periods_unchanged,
                    "deleted": report.periods_deleted,
                },
                "dry_run": dry_run,
            }
        )
        return
    verb = "would be " if dry_run else ""
    for label, names in (
        ("created time period", report.periods_created),
        ("updated time period", report.periods_updated),
        ("deleted time period", report.periods_deleted),
        ("created", report.created),
        ("updated", report.updated),
        ("deleted", report.deleted),
    ):
        for name in names:
            click.echo(f"{verb}{label}: {name}")
    click.echo(
        f"{len(report.created)} {verb}created, {len(report.updated)} {verb}updated, "
        f"{len(report.unchanged)} unchanged, {len(report.deleted)} {verb}deleted"
    )


@root.command("export")
@pass_app
def export(app: App) -> None:
    """Print every job and time period definition as TOML that `director apply` reads back."""
    click.echo(export_jobs([job.spec for job in app.database.jobs.all()]), nl=False)
    click.echo(export_periods(app.database.periods.all()), nl=False)
