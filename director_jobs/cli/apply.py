"""`director apply FILE` and `director export`: definitions as TOML, for version control."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from director_jobs.cli.app import App
from director_jobs.cli.jobs import _service
from director_jobs.cli.render import print_json
from director_jobs.cli.root import root
from director_jobs.imports.definitions import export_sources, parse_sources
from director_jobs.imports.store import ImportStore
from director_jobs.secrets import masked, secret_fields
from director_jobs.services.declarative import (
    export_jobs,
    export_periods,
    load_file,
    parse_jobs,
    parse_periods,
)
from director_jobs.services.jobs import Changes
from director_jobs.sync.definitions import export_rules, parse_rules
from director_jobs.sync.rules_store import RuleStore

pass_app = click.make_pass_decorator(App, ensure=True)

# How each section's names are labelled in the text report ("" for jobs, the main section).
_LABELS = (
    ("timeperiods", " time period"),
    ("imports", " import source"),
    ("sync_rules", " sync rule"),
    ("jobs", ""),
)


def changes_json(changes: Changes) -> dict[str, list[str]]:
    """{"created": [...], "updated": [...], "unchanged": [...], "deleted": [...]}."""
    return {
        "created": changes.created,
        "updated": changes.updated,
        "unchanged": changes.unchanged,
        "deleted": changes.deleted,
    }


@root.command("apply")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--prune", is_flag=True, help="Delete definitions that the file does not define.")
@click.option("--dry-run", is_flag=True, help="Only report what would change.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def apply(app: App, file: Path, prune: bool, dry_run: bool, as_json: bool) -> None:
    """Create or update the jobs, time periods, import sources and sync rules in FILE (TOML).

    A file with any error changes nothing.

    \b
    Examples:
      director apply jobs.toml --dry-run
      director apply jobs.toml --prune
    """
    data = load_file(file)
    report = _service(app, actor=f"apply:{file}").apply(
        parse_jobs(data),
        periods=parse_periods(data),
        sources=parse_sources(data),
        rules=parse_rules(data),
        prune=prune,
        dry_run=dry_run,
    )
    if as_json:
        # Jobs at the top level (the shape scripts already parse), the other sections nested.
        shown: dict[str, Any] = changes_json(report.jobs)
        for section, _ in _LABELS[:-1]:
            shown[section] = changes_json(getattr(report, section))
        print_json({**shown, "dry_run": dry_run})
        return
    verb = "would be " if dry_run else ""
    for section, label in _LABELS:
        changes: Changes = getattr(report, section)
        for action, names in (
            ("created", changes.created),
            ("updated", changes.updated),
            ("deleted", changes.deleted),
        ):
            for name in names:
                click.echo(f"{verb}{action}{label}: {name}")
    jobs = report.jobs
    click.echo(
        f"{len(jobs.created)} {verb}created, {len(jobs.updated)} {verb}updated, "
        f"{len(jobs.unchanged)} unchanged, {len(jobs.deleted)} {verb}deleted"
    )


@root.command("export")
@click.option(
    "--mask-secrets",
    is_flag=True,
    help="Write *** for secret-looking parameters (for sharing; such a file cannot restore them).",
)
@pass_app
def export(app: App, mask_secrets: bool) -> None:
    """Print every definition (jobs, time periods, sources, rules) as TOML for `apply`.

    Parameters that look secret (a command's PGPASSWORD) are written as they are, so that
    the file restores them, and named in a warning on stderr: keep such a file private.

    \b
    Examples:
      director export > jobs.toml
      director export --mask-secrets
    """
    engine = app.database.engine
    specs = [job.spec for job in app.database.jobs.all()]
    for spec in specs:
        for secret_path in secret_fields(spec.parameters, f"jobs.{spec.name}.parameters"):
            if not mask_secrets:
                click.echo(
                    f"director: warning: {secret_path} holds a secret, written as it is",
                    err=True,
                )
    if mask_secrets:
        specs = [dataclasses.replace(s, parameters=masked(s.parameters)) for s in specs]
    click.echo(export_jobs(specs), nl=False)
    click.echo(export_periods(app.database.periods.all()), nl=False)
    click.echo(export_sources(ImportStore(engine).sources()), nl=False)
    click.echo(export_rules(RuleStore(engine).all()), nl=False)
