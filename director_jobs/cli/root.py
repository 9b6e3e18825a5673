"""The root `director` group, its global options, and the mapping of errors to exit codes."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from director_jobs import __version__, exit_codes
from director_jobs.cli.app import App
from director_jobs.errors import (
    AlreadyExists,
    ConfigError,
    DirectorJobsError,
    NotFound,
)
from director_jobs.settings import CONTAINMENTS

F = TypeVar("F", bound=Callable[..., Any])

# Errors that mean "the command as given cannot work" exit like usage errors
# (InvalidInput and the periods' InvalidTimeRange are ValueErrors).
_USAGE_ERRORS = (ValueError, NotFound, AlreadyExists)


def exit_code_for(error: DirectorJobsError) -> int:
    """Map an error class to the documented exit code."""
    if isinstance(error, ConfigError):
        return exit_codes.CONFIG
    if isinstance(error, _USAGE_ERRORS):
        return exit_codes.USAGE
    return exit_codes.JOB_FAILED


ENVVAR_PREFIX = "DIRECTOR_JOBS"

# The module that defines each top-level command. Only the module of the command being run
# is imported: a cron-driven `jobs run` does not pay for the pipeline's or apply's imports.
COMMAND_MODULES = {
    "jobs": "director_jobs.cli.jobs",
    "timeperiods": "director_jobs.cli.timeperiods",
    "apply": "director_jobs.cli.apply",
    "export": "director_jobs.cli.apply",
    "db": "director_jobs.cli.db",
    "imports": "director_jobs.cli.imports_cmd",
    "sync": "director_jobs.cli.sync_cmd",
    "objects": "director_jobs.cli.sync_cmd",
    "deployments": "director_jobs.cli.deploy_cmd",
    "config": "director_jobs.cli.deploy_cmd",
    "manpage": "director_jobs.cli.manpage",
    "status": "director_jobs.cli.status",
    "health": "director_jobs.cli.health",
    "metrics": "director_jobs.cli.metrics",
    "tokens": "director_jobs.cli.tokens",
    "activity": "director_jobs.cli.activity",
    "serve": "director_jobs.cli.serve",
}


class DirectorGroup(click.Group):
    """Loads each command's module on first use; turns our errors into one line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, loaded or not (for --help)."""
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the module that registers `cmd_name` (its group may exist already, empty)."""
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None:
            importlib.import_module(module)
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            name_envvars(command, f"{ENVVAR_PREFIX}_{cmd_name}")
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Like click's, but a usage error is one line: `director: error: …`, exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            # `director` (or `director jobs`) alone: the help, on stdout, and no error.
            click.echo(exc.ctx.get_help() if exc.ctx is not None else str(exc))
            sys.exit(exit_codes.OK)
        except click.ClickException as exc:
            click.echo(f"director: error: {_one_line(exc)}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(exit_codes.JOB_FAILED)
        sys.exit(code if isinstance(code, int) else exit_codes.OK)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report DirectorJobsError without a traceback (unless --trace)."""
        try:
            return super().invoke(ctx)
        except DirectorJobsError as exc:
            _show_traceback(ctx)
            click.echo(f"director: error: {exc}", err=True)
            ctx.exit(exit_code_for(exc))
        except Exception as exc:
            from sqlalchemy.exc import DBAPIError

            if not isinstance(exc, DBAPIError):
                raise
            # One line, never the statement or its parameters (they may hold secrets).
            from director_jobs.db.failures import first_line, is_outage

            _show_traceback(ctx)
            what = "database unavailable" if is_outage(exc) else "the database refused it"
            if "readonly database" in first_line(exc):
                what = f"the database is read-only for this user (uid {os.geteuid()})"
            click.echo(f"director: error: {what}: {first_line(exc)}", err=True)
            ctx.exit(exit_codes.JOB_FAILED)
        finally:
            app = ctx.find_object(App)
            if app is not None:
                app.close()


def _show_traceback(ctx: click.Context) -> None:
    """Print the current exception's traceback when --trace asked for it."""
    app = ctx.find_object(App)
    if app is not None and app.trace:
        import traceback

        traceback.print_exc()


def name_envvars(command: click.Command, path: str) -> None:
    """Give every option without one the variable `DIRECTOR_JOBS_<COMMAND>_<OPTION>`.

    Click's automatic names use the Python parameter (`--yes` → `…_ASSUME_YES`); ours
    use the option users see: `jobs run --yes` → DIRECTOR_JOBS_JOBS_RUN_YES.
    """
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar is None and param.expose_value:
            long_names = [o[2:] for o in param.opts if o.startswith("--")]
            option = max(long_names, key=len) if long_names else param.name or ""
            param.envvar = f"{path}_{option}".upper().replace("-", "_")
            param.show_envvar = True
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            name_envvars(sub, f"{path}_{name}")


def _one_line(error: click.ClickException) -> str:
    """Click's message on one line, pointing at the command's --help for usage errors."""
    message = " ".join(error.format_message().split())
    context = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and context is not None:
        return f"{message.rstrip('.')} (see '{context.command_path} --help')"
    return message


def log_options(command: F) -> F:
    """-v/--verbose, --debug, --trace: accepted on the group and on commands alike."""

    def set_level(level: str) -> Callable[[click.Context, click.Parameter, bool], None]:
        def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
            if value:
                app = ctx.ensure_object(App)
                app.raise_log_level(level)
                if level == "trace":
                    app.trace = True

        return callback

    for flags, level, help_text in (
        (("--trace",), "trace", "Log everything and show tracebacks on failure."),
        (("--debug",), "debug", "Log at DEBUG level."),
        (("-v", "--verbose"), "info", "Log at INFO level (default: WARNING)."),
    ):
        command = click.option(
            *flags,
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=set_level(level),
            envvar=f"{ENVVAR_PREFIX}_{flags[-1][2:].upper()}",  # DIRECTOR_JOBS_VERBOSE, …
            show_envvar=True,
            help=help_text,
        )(command)
    return command


@click.group(cls=DirectorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "database_url",
    envvar="DIRECTOR_JOBS_DATABASE_URL",
    metavar="URL",
    show_envvar=True,
    help="Database URL (default: SQLite in the service's or the user's data folder).",
)
@click.option(
    "--config",
    "config_path",
    envvar="DIRECTOR_JOBS_CONFIG",
    metavar="FILE",
    show_envvar=True,
    help="TOML configuration file (default: /etc/director-jobs/config.toml if present).",
)
@click.option(
    "--timezone",
    envvar="DIRECTOR_JOBS_TIMEZONE",
    metavar="TZ",
    show_envvar=True,
    help="Default time zone for cron schedules and time periods (default: the system's).",
)
@click.option(
    "--containment",
    type=click.Choice(CONTAINMENTS),
    envvar="DIRECTOR_JOBS_CONTAINMENT",
    show_envvar=True,
    help="How a job's processes are held together: a cgroup per job where possible "
    "(auto), or only its process group.",
)
@log_options
@click.version_option(__version__, prog_name="director")
@click.pass_context
def root(
    ctx: click.Context,
    database_url: str | None,
    config_path: str | None,
    timezone: str | None,
    containment: str | None,
) -> None:
    """director-jobs: run monitoring and automation jobs from a database, one after the other."""
    app = ctx.ensure_object(App)
    app.database_url = database_url
    app.config_path = config_path
    app.timezone = timezone
    app.containment = containment
