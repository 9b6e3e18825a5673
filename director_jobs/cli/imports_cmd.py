"""`director imports …`: list, show and preview import sources."""

from __future__ import annotations

import json
from typing import Any

import click

from director_jobs.cli.app import App
from director_jobs.cli.pipeline import imports
from director_jobs.cli.render import local, print_json, table
from director_jobs.errors import InvalidInput
from director_jobs.imports.providers import masked_settings
from director_jobs.imports.service import ImportService
from director_jobs.imports.spec import SourceSpec
from director_jobs.imports.store import ImportRunInfo
from director_jobs.services.shapes import iso

pass_app = click.make_pass_decorator(App, ensure=True)

# Rows `imports preview` shows unless told otherwise.
DEFAULT_PREVIEW_ROWS = 20


def _service(app: App) -> ImportService:
    return ImportService(app.database.engine, app.clock)


def run_json(run: ImportRunInfo | None) -> dict[str, Any] | None:
    """The stable JSON shape of an import run."""
    if run is None:
        return None
    return {
        "id": run.id,
        "checksum": run.checksum,
        "rows": run.row_count,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
    }


def source_json(spec: SourceSpec) -> dict[str, Any]:
    """The stable JSON shape of a source (secrets masked)."""
    return {
        "name": spec.name,
        "provider": spec.provider,
        "key_column": spec.key_column,
        "description": spec.description,
        "settings": masked_settings(spec.provider, spec.settings),
        "modifiers": [dict(m) for m in spec.modifiers],
    }


def cell(value: Any) -> str:
    """A row value in a table cell: text as is, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@imports.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List the import sources and their newest stored import.

    \b
    Examples:
      director imports list
    """
    service = _service(app)
    specs = service.store.sources()
    latest = service.store.latest_runs()
    if as_json:
        print_json([{**source_json(s), "last_run": run_json(latest.get(s.name))} for s in specs])
        return
    zone = app.settings.timezone
    rows = []
    for spec in specs:
        run = latest.get(spec.name)
        rows.append(
            (
                spec.name,
                spec.provider,
                spec.key_column,
                run.row_count if run else None,
                local(run.finished_at, zone) if run else "never",
            )
        )
    table(("NAME", "PROVIDER", "KEY", "ROWS", "LAST STORED IMPORT"), rows)


@imports.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: App, name: str, as_json: bool) -> None:
    """Show a source's settings (secrets masked), modifiers and newest import runs.

    \b
    Examples:
      director imports show cmdb
    """
    service = _service(app)
    spec = service.store.get(name)
    runs = service.store.runs(name, limit=10)
    data = source_json(spec)
    if as_json:
        print_json({**data, "runs": [run_json(r) for r in runs]})
        return
    click.echo(f"name:        {spec.name}")
    click.echo(f"provider:    {spec.provider}")
    click.echo(f"key column:  {spec.key_column}")
    if spec.description:
        click.echo(f"description: {spec.description}")
    click.echo("settings:")
    for key, value in data["settings"].items():
        click.echo(f"  {key} = {cell(value)}")
    if spec.modifiers:
        click.echo("modifiers (in order):")
        for number, modifier in enumerate(spec.modifiers, start=1):
            arguments = {k: v for k, v in modifier.items() if k not in ("column", "modifier")}
            extra = f" {cell(arguments)}" if arguments else ""
            click.echo(f"  {number}. {modifier.get('column')}: {modifier.get('modifier')}{extra}")
    click.echo("stored import runs (newest first):")
    if not runs:
        click.echo("  none yet")
        return
    zone = app.settings.timezone
    table(
        ("  ID", "FINISHED", "ROWS", "CHECKSUM"),
        [(f"  {r.id}", local(r.finished_at, zone), r.row_count, r.checksum[:12]) for r in runs],
    )


@imports.command("preview")
@click.argument("name")
@click.option(
    "--limit", default=DEFAULT_PREVIEW_ROWS, show_default=True, help="Rows to show (at least 1)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def preview(app: App, name: str, limit: int, as_json: bool) -> None:
    """Read a source now and show its first rows after the modifiers; nothing is stored.

    \b
    Examples:
      director imports preview cmdb --limit 5
    """
    if limit < 1:
        raise InvalidInput("limit", limit, "expected a whole number of rows, at least 1")
    rows = _service(app).preview(name, limit)
    if as_json:
        print_json(rows)
        return
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    if not columns:
        click.echo("no rows")
        return
    table([c.upper() for c in columns], [[_cell_or_none(r, c) for c in columns] for r in rows])


def _cell_or_none(row: dict[str, Any], column: str) -> str | None:
    """The cell text, or None (shown as '-') when the row lacks the column."""
    return cell(row[column]) if column in row else None
