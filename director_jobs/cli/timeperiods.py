"""`director timeperiods …`: Icinga-style time periods that gate when jobs may start."""

from __future__ import annotations

from pathlib import Path

import click

from director_jobs import exit_codes
from director_jobs.cli.app import App
from director_jobs.cli.render import local, print_json, table
from director_jobs.cli.root import root
from director_jobs.errors import InvalidInput
from director_jobs.model import PeriodSpec
from director_jobs.services.activity import unix_actor
from director_jobs.services.periods import PeriodService, parse_range_option
from director_jobs.services.shapes import iso, period_json
from director_jobs.validation import parse_local_instant, zone

pass_app = click.make_pass_decorator(App, ensure=True)


def _service(app: App) -> PeriodService:
    return PeriodService(app.database, app.clock, app.settings.timezone, actor=unix_actor())


def _zone_of(app: App, spec: PeriodSpec) -> str:
    return spec.timezone or app.settings.timezone


@root.group("timeperiods")
def timeperiods() -> None:
    """Icinga 2 style time periods: jobs start only while theirs is active."""


@timeperiods.command("add")
@click.argument("name")
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="KEY=VALUE",
    help="e.g. 'monday=09:00-17:00' (repeatable).",
)
@click.option(
    "--include",
    "includes",
    multiple=True,
    metavar="PERIOD",
    help="Add this period's times (repeatable).",
)
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="PERIOD",
    help="Remove this period's times (repeatable).",
)
@click.option(
    "--prefer-includes/--no-prefer-includes",
    default=True,
    show_default=True,
    help="Includes win over excludes.",
)
@click.option(
    "--timezone",
    "period_timezone",
    metavar="TZ",
    help="Zone of the ranges (default: the configured one).",
)
@click.option("--display-name", metavar="TEXT", help="A human-readable name.")
@pass_app
def add(
    app: App,
    name: str,
    ranges: tuple[str, ...],
    includes: tuple[str, ...],
    excludes: tuple[str, ...],
    prefer_includes: bool,
    period_timezone: str | None,
    display_name: str | None,
) -> None:
    """Define a time period.

    \b
    Examples:
      director timeperiods add workhours --range 'monday=09:00-17:00' --timezone Europe/Berlin
      director timeperiods add nights --range 'monday=22:00-24:00,00:00-06:00' --exclude holidays
    """
    parsed: dict[str, str] = {}
    for text in ranges:
        key, value = parse_range_option(text)
        if key in parsed:
            raise InvalidInput("range", text, f"key {key!r} given twice")
        parsed[key] = value
    if period_timezone is not None:
        zone(period_timezone)
    spec = PeriodSpec(
        name, parsed, includes, excludes, prefer_includes, period_timezone, display_name
    )
    period = _service(app).add(spec)
    click.echo(f"added time period {name}")
    for warning in period.warnings():
        click.echo(f"warning: {warning}", err=True)


@timeperiods.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List the time periods and whether each is active now.

    \b
    Examples:
      director timeperiods list
    """
    service = _service(app)
    specs = app.database.periods.all()
    now = app.clock.now()
    if as_json:
        print_json(
            [{**period_json(s), "active": service.period(s.name).contains(now)} for s in specs]
        )
        return
    table(
        ("NAME", "ZONE", "KEYS", "INCLUDES", "EXCLUDES", "NOW"),
        [
            (
                s.name,
                _zone_of(app, s),
                len(s.ranges),
                ",".join(s.includes) or None,
                ",".join(s.excludes) or None,
                "active" if service.period(s.name).contains(now) else "inactive",
            )
            for s in specs
        ],
    )


@timeperiods.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: App, name: str, as_json: bool) -> None:
    """Show a period's ranges and its next 5 windows.

    \b
    Examples:
      director timeperiods show workhours
    """
    spec = app.database.periods.get(name)
    service = _service(app)
    windows = service.upcoming_windows(name, app.clock.now(), 5)
    warnings = service.period(name).warnings()
    if as_json:
        print_json(
            {
                **period_json(spec),
                "next_windows": [[iso(a), iso(b)] for a, b in windows],
                "warnings": warnings,
            }
        )
        return
    tz = _zone_of(app, spec)
    click.echo(f"name:          {spec.name}")
    click.echo(f"display name:  {spec.display_name or '-'}")
    click.echo(f"time zone:     {tz}")
    click.echo(f"includes:      {', '.join(spec.includes) or '-'}")
    click.echo(f"excludes:      {', '.join(spec.excludes) or '-'}")
    click.echo(f"prefer incl.:  {'yes' if spec.prefer_includes else 'no'}")
    click.echo("ranges:")
    for key, value in spec.ranges.items():
        click.echo(f"  {key} = {value or '(not active)'}")
    click.echo("next windows:")
    for begin, end in windows:
        click.echo(f"  {local(begin, tz)} – {local(end, tz) if end else 'open-ended'}")
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@timeperiods.command("delete")
@click.argument("name")
@pass_app
def delete(app: App, name: str) -> None:
    """Delete a period that no job and no other period uses.

    \b
    Examples:
      director timeperiods delete workhours
    """
    _service(app).delete(name)
    click.echo(f"deleted time period {name}")


@timeperiods.command("check")
@click.argument("name")
@click.option(
    "--at",
    "at_text",
    metavar="TIMESTAMP",
    help="ISO 8601 instant (default: now); without an offset, in the period's zone.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def check(app: App, name: str, at_text: str | None, as_json: bool) -> None:
    """Say whether the period is active (exit 0) or not (exit 1), since and until when.

    \b
    Examples:
      director timeperiods check workhours
      director timeperiods check workhours --at '2026-12-24 10:00'
    """
    spec = app.database.periods.get(name)
    tz = _zone_of(app, spec)
    at = parse_local_instant(at_text, tz) if at_text else app.clock.now()
    service = _service(app)
    state = service.state(name, at)
    warnings = service.period(name).warnings()
    if as_json:
        print_json(
            {
                "name": name,
                "at": iso(at),
                "active": state.active,
                "since": iso(state.since),
                "until": iso(state.until),
                "warnings": warnings,
            }
        )
    else:
        word = "active" if state.active else "inactive"
        since = f" since {local(state.since, tz)}" if state.since else " for more than a year"
        until = (
            f" until {local(state.until, tz)}" if state.until else ", with no change within 5 years"
        )
        click.echo(f"{name} is {word} at {local(at, tz)}:{since}{until}")
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
    raise SystemExit(exit_codes.OK if state.active else exit_codes.JOB_FAILED)


@timeperiods.command("next")
@click.argument("name")
@click.option(
    "-n", "--count", type=click.IntRange(1, 1000), default=5, show_default=True, help="How many."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def next_(app: App, name: str, count: int, as_json: bool) -> None:
    """List the next windows in which the period is active.

    \b
    Examples:
      director timeperiods next workhours -n 3
    """
    spec = app.database.periods.get(name)
    windows = _service(app).upcoming_windows(name, app.clock.now(), count)
    if as_json:
        print_json([{"begin": iso(a), "end": iso(b)} for a, b in windows])
        return
    tz = _zone_of(app, spec)
    if not windows:
        click.echo(f"{name} is not active within the next 5 years")
    for begin, end in windows:
        click.echo(f"{local(begin, tz)} – {local(end, tz) if end else 'open-ended'}")


@timeperiods.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--timezone",
    "period_timezone",
    metavar="TZ",
    help="Zone of the imported periods (default: the configured one).",
)
@click.option("--dry-run", is_flag=True, help="Only report what would change.")
@pass_app
def import_(app: App, file: Path, period_timezone: str | None, dry_run: bool) -> None:
    """Create or update periods from `object TimePeriod` definitions in an Icinga 2 .conf file.

    \b
    Examples:
      director timeperiods import /etc/icinga2/conf.d/timeperiods.conf
    """
    from director_jobs.periods.icinga_config import parse_timeperiods

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput("file", str(file), f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput("file", str(file), "not UTF-8 text") from None
    if period_timezone is not None:
        zone(period_timezone)
    result = parse_timeperiods(text, source=str(file))
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    specs = [
        PeriodSpec(
            p.name,
            dict(p.ranges),
            tuple(p.includes),
            tuple(p.excludes),
            p.prefer_includes,
            period_timezone,
            p.display_name,
        )
        for p in result.periods
    ]
    service = _service(app)
    with app.database.engine.begin() as connection:
        created, updated, same = service.import_in(connection, specs, app.clock.now())
        if dry_run:
            connection.rollback()
    verb = "would be " if dry_run else ""
    click.echo(
        f"{len(created)} {verb}created, {len(updated)} {verb}updated, {len(same)} unchanged: "
        f"{', '.join(created + updated) or '-'}"
    )
    if not dry_run:  # where Icinga 2 itself evaluates an imported key differently
        for name in created + updated + same:
            for warning in service.period(name).warnings():
                click.echo(f"warning: period {name!r}: {warning}", err=True)
