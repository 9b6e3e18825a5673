"""`director sync …` and `director objects …`: sync rules and the objects they own."""

from __future__ import annotations

import json
from typing import Any

import click

from director_jobs.cli.app import App
from director_jobs.cli.pipeline import objects, sync
from director_jobs.cli.render import local, print_json, table
from director_jobs.errors import InvalidInput
from director_jobs.services.shapes import iso
from director_jobs.sync.diff import property_diff
from director_jobs.sync.objects_store import ChangeRecord, ObjectRecord, SyncRunInfo
from director_jobs.sync.planner import Change, Counts
from director_jobs.sync.service import SyncService
from director_jobs.sync.spec import OBJECT_TYPES, RuleSpec

pass_app = click.make_pass_decorator(App, ensure=True)


def _service(app: App) -> SyncService:
    return SyncService(app.database.engine, app.clock)


def _text(value: Any) -> str:
    """A value for people: text as is, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def counts_json(counts: Counts) -> dict[str, int]:
    """{"created": n, "modified": n, "deleted": n}."""
    return {"created": counts.created, "modified": counts.modified, "deleted": counts.deleted}


def rule_json(spec: RuleSpec) -> dict[str, Any]:
    """The stable JSON shape of a rule."""
    return {
        "name": spec.name,
        "source": spec.source,
        "object_type": spec.object_type,
        "properties": spec.properties,
        "filter": spec.filter,
        "update_policy": spec.update_policy.value,
        "purge": spec.purge,
        "description": spec.description,
    }


def sync_run_json(run: SyncRunInfo) -> dict[str, Any]:
    """The stable JSON shape of a sync run."""
    return {
        "id": run.id,
        "import_run": run.import_run_id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        **counts_json(run.counts),
    }


def change_json(change: Change | ChangeRecord) -> dict[str, Any]:
    """The stable JSON shape of a (planned or recorded) change."""
    action = change.action.value if isinstance(change, Change) else change.action
    return {
        "action": action,
        "object_type": change.object_type,
        "name": change.name,
        "before": change.before,
        "after": change.after,
    }


def echo_change(action: str, object_type: str, name: str, before: Any, after: Any) -> None:
    """`modify host web01` followed by one indented line per changed property."""
    click.echo(f"{action} {object_type} {name}")
    for path, old, new in property_diff(before, after):
        if action == "create":
            click.echo(f"    {path} = {_text(new)}")
        elif action == "modify":
            click.echo(f"    {path}: {_text(old)} → {_text(new)}")


# -- sync ------------------------------------------------------------------------------


@sync.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def sync_list(app: App, as_json: bool) -> None:
    """List the sync rules and their newest sync run.

    \b
    Examples:
      director sync list
    """
    service = _service(app)
    specs = service.rules.all()
    latest = {s.name: next(iter(service.objects.sync_runs(s.name, 1)), None) for s in specs}
    if as_json:
        print_json(
            [
                {**rule_json(s), "last_run": sync_run_json(r) if (r := latest[s.name]) else None}
                for s in specs
            ]
        )
        return
    zone = app.settings.timezone
    rows = []
    for spec in specs:
        run = latest[spec.name]
        rows.append(
            (
                spec.name,
                spec.source,
                spec.object_type,
                spec.update_policy.value,
                "yes" if spec.purge else "no",
                f"{local(run.finished_at, zone)} ({run.counts.text()})" if run else "never",
            )
        )
    table(("NAME", "SOURCE", "TYPE", "POLICY", "PURGE", "LAST SYNC"), rows)


@sync.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def sync_show(app: App, name: str, as_json: bool) -> None:
    """Show a rule's mapping, filter, policy and newest sync runs.

    \b
    Examples:
      director sync show hosts
    """
    service = _service(app)
    spec = service.rules.get(name)
    runs = service.objects.sync_runs(name, 10)
    if as_json:
        print_json({**rule_json(spec), "runs": [sync_run_json(r) for r in runs]})
        return
    click.echo(f"name:          {spec.name}")
    click.echo(f"source:        {spec.source}")
    click.echo(f"object type:   {spec.object_type}")
    click.echo(f"update policy: {spec.update_policy.value}")
    click.echo(f"purge:         {'yes' if spec.purge else 'no'}")
    click.echo(f"filter:        {spec.filter if spec.filter is not None else '-'}")
    if spec.description:
        click.echo(f"description:   {spec.description}")
    click.echo("properties:")
    for key, value in spec.properties.items():
        click.echo(f"  {key} = {_text(value)}")
    click.echo("sync runs (newest first):")
    if not runs:
        click.echo("  none yet")
        return
    zone = app.settings.timezone
    table(
        ("  ID", "FINISHED", "IMPORT RUN", "CHANGES"),
        [(f"  {r.id}", local(r.finished_at, zone), r.import_run_id, r.counts.text()) for r in runs],
    )


@sync.command("preview")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def sync_preview(app: App, name: str, as_json: bool) -> None:
    """Show the changes the rule would make now; nothing is written.

    \b
    Examples:
      director sync preview hosts
    """
    plan = _service(app).plan(name)
    if as_json:
        print_json(
            {
                "rule": plan.rule,
                "import_run": plan.import_run_id,
                **counts_json(plan.counts),
                "changes": [change_json(c) for c in plan.changes],
            }
        )
        return
    words = {"created": "create", "modified": "modify", "deleted": "delete"}
    for change in plan.changes:
        echo_change(
            words[change.action.value], change.object_type, change.name, change.before, change.after
        )
    click.echo(f"{plan.counts.text()} (from import run {plan.import_run_id})")


# -- objects ---------------------------------------------------------------------------


def object_json(record: ObjectRecord) -> dict[str, Any]:
    """The stable JSON shape of an object."""
    return {
        "object_type": record.object_type,
        "name": record.name,
        "properties": record.properties,
        "owner_rule": record.owner_rule,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


def _object_type(value: str) -> str:
    """A known object type, or a one-line error."""
    if value not in OBJECT_TYPES:
        raise InvalidInput("type", value, f"expected one of {', '.join(OBJECT_TYPES)}")
    return value


@objects.command("list")
@click.option("--type", "object_type", metavar="TYPE", help=f"Only {', '.join(OBJECT_TYPES)}.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def objects_list(app: App, object_type: str | None, as_json: bool) -> None:
    """List the objects (optionally of one type).

    \b
    Examples:
      director objects list --type host
    """
    if object_type is not None:
        _object_type(object_type)
    records = _service(app).objects.list_objects(object_type)
    if as_json:
        print_json([object_json(r) for r in records])
        return
    zone = app.settings.timezone
    table(
        ("TYPE", "NAME", "OWNER RULE", "UPDATED"),
        [(r.object_type, r.name, r.owner_rule, local(r.updated_at, zone)) for r in records],
    )


@objects.command("show")
@click.argument("object_type", metavar="TYPE")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def objects_show(app: App, object_type: str, name: str, as_json: bool) -> None:
    """Show an object's properties and the history of its changes.

    \b
    Examples:
      director objects show host web01.example.com
    """
    store = _service(app).objects
    record = store.get(_object_type(object_type), name)
    history = store.history(object_type, name)
    if as_json:
        print_json(
            {
                **object_json(record),
                "history": [
                    {**change_json(h), "sync_run": h.sync_run_id, "rule": h.rule, "at": iso(h.at)}
                    for h in history
                ],
            }
        )
        return
    zone = app.settings.timezone
    click.echo(f"{record.object_type} {record.name}")
    click.echo(f"owner rule: {record.owner_rule or '-'}")
    click.echo(f"created:    {local(record.created_at, zone)}")
    click.echo(f"updated:    {local(record.updated_at, zone)}")
    click.echo("properties:")
    for line in json.dumps(record.properties, indent=2, ensure_ascii=False).splitlines():
        click.echo(f"  {line}")
    click.echo("history (newest first):")
    for entry in history:
        when = local(entry.at, zone)
        click.echo(f"  {when}  sync run {entry.sync_run_id} ({entry.rule}): {entry.action}")
        for path, old, new in property_diff(entry.before, entry.after):
            click.echo(f"      {path}: {_text(old)} → {_text(new)}")
