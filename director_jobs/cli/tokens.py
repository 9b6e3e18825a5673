"""`director tokens …`: the API's bearer tokens (who may read, operate or administer)."""

from __future__ import annotations

import getpass

import click

from director_jobs.cli.app import App
from director_jobs.cli.render import local, print_json, table
from director_jobs.cli.root import root
from director_jobs.db.tokens_repo import TokenRecord
from director_jobs.services.activity import unix_actor
from director_jobs.services.shapes import iso
from director_jobs.services.tokens import TokenService
from director_jobs.settings import ROLES

pass_app = click.make_pass_decorator(App, ensure=True)


def _service(app: App) -> TokenService:
    return TokenService(app.database, app.clock, actor=unix_actor())


def _state(app: App, record: TokenRecord) -> str:
    if record.revoked_at is not None:
        return "revoked"
    if record.expires_at is not None and record.expires_at <= app.clock.now():
        return "expired"
    return "active"


@root.group("tokens")
def tokens() -> None:
    """Bearer tokens for `director serve`: viewer reads, operator also runs, admin defines."""


@tokens.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    required=True,
    help="viewer: read; operator: also trigger, stop, enable, disable; admin: everything.",
)
@click.option("--expires", metavar="DURATION", help="e.g. 90d; default: never.")
@pass_app
def add(app: App, name: str, role: str, expires: str | None) -> None:
    """Create a token and print its secret (the only time it is shown) on stdout.

    In a script: TOKEN=$(director tokens add ci --role operator).

    \b
    Examples:
      director tokens add grafana --role viewer --expires 90d
      director tokens add ci --role operator
    """
    secret = _service(app).add(name, role, expires, getpass.getuser())
    click.echo(f"token {name!r} ({role}) created; store it now, it is not shown again:", err=True)
    click.echo(secret)


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_tokens(app: App, as_json: bool) -> None:
    """List the tokens (never their secrets): role, state, who made them, last use.

    \b
    Examples:
      director tokens list
      director tokens list --json
    """
    records = _service(app).all()
    if as_json:
        print_json(
            [
                {
                    "name": r.name,
                    "role": r.role,
                    "state": _state(app, r),
                    "created_at": iso(r.created_at),
                    "created_by": r.created_by,
                    "expires_at": iso(r.expires_at),
                    "revoked_at": iso(r.revoked_at),
                    "last_used_at": iso(r.last_used_at),
                }
                for r in records
            ]
        )
        return
    tz = app.settings.timezone
    table(
        ["NAME", "ROLE", "STATE", "CREATED", "BY", "EXPIRES", "LAST USED"],
        [
            [
                r.name,
                r.role,
                _state(app, r),
                local(r.created_at, tz),
                r.created_by,
                local(r.expires_at, tz) if r.expires_at else "never",
                local(r.last_used_at, tz) if r.last_used_at else "never",
            ]
            for r in records
        ],
    )


@tokens.command("revoke")
@click.argument("name")
@pass_app
def revoke(app: App, name: str) -> None:
    """Revoke a token at once: requests with it get 401 from then on.

    \b
    Examples:
      director tokens revoke grafana
    """
    _service(app).revoke(name)
    click.echo(f"token {name!r} revoked")
