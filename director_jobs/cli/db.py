"""`director db …`: schema migrations."""

from __future__ import annotations

import click

from director_jobs.cli.app import App
from director_jobs.cli.root import root
from director_jobs.db.database import Database
from director_jobs.db.engine import safe_url
from director_jobs.db.migrate import HEAD_REVISION

pass_app = click.make_pass_decorator(App, ensure=True)


@root.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_app
def upgrade(app: App) -> None:
    """Create or migrate the schema to this version's revision.

    \b
    Examples:
      director db upgrade
      director --db postgresql+psycopg://director@db/jobs db upgrade
    """
    database = Database(app.settings.database_url)
    try:
        before = database.schema_revision()
        database.upgrade()
    finally:
        database.dispose()
    url = safe_url(app.settings.database_url)
    if before == HEAD_REVISION:
        click.echo(f"{url}: schema already at {HEAD_REVISION}")
    else:
        click.echo(f"{url}: schema migrated from {before or 'empty'} to {HEAD_REVISION}")
