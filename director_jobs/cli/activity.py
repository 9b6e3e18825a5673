"""`director activity`: who changed which definition or token, triggered or stopped what."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from director_jobs.cli.app import App
from director_jobs.cli.render import local, print_json, table
from director_jobs.cli.root import root
from director_jobs.errors import InvalidInput
from director_jobs.services.activity import MAX_PAGE, ActivityLog, unix_actor
from director_jobs.services.shapes import activity_json
from director_jobs.validation import parse_duration, parse_local_instant

pass_app = click.make_pass_decorator(App, ensure=True)


def _since(app: App, text: str | None) -> datetime | None:
    """`7d` (that long ago) or an ISO time (naive: in the configured zone)."""
    if text is None:
        return None
    try:
        return app.clock.now() - timedelta(seconds=parse_duration(text, "since"))
    except InvalidInput:
        pass
    try:
        return parse_local_instant(text, app.settings.timezone, "since")
    except InvalidInput:
        raise InvalidInput(
            "since", text, "expected a duration such as 7d or a time such as 2026-12-01T08:00"
        ) from None


@root.command("activity")
@click.option("--since", metavar="DURATION|TIME", help="e.g. 7d, or 2026-12-01T08:00.")
@click.option("--limit", default=50, show_default=True, help=f"Entries, 1-{MAX_PAGE}.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with before and after).")
@pass_app
def activity(app: App, since: str | None, limit: int, as_json: bool) -> None:
    """Show the activity log, newest first: changes, triggers, stops, tokens.

    \b
    Examples:
      director activity --since 7d
      director activity --json --limit 10
    """
    log = ActivityLog(app.database, app.clock, unix_actor())
    entries, _ = log.page(_since(app, since), limit, None)
    if as_json:
        print_json([activity_json(e) for e in entries])
        return
    tz = app.settings.timezone
    table(
        ["WHEN", "WHO", "WHAT", "KIND", "NAME"],
        [[local(e.at, tz), e.actor, e.action, e.kind, e.name] for e in entries],
    )
