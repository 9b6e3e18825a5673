"""The `director` command line: thin click commands that parse, call the core and print.

Each top-level command's module is imported when that command runs (cli/root.py), and
click itself only when a command line needs it: Icinga starts `director health check`
every minute on many hosts, and the imports of click, the CLI and SQLAlchemy cost several
times the check. `main` answers such a command line itself, on a plain driver connection
(services/health_check.py's PlainData); anything it does not recognise, or a database it
cannot open that way, goes to click and cli/health.py, which answer the same, slower.
"""

from __future__ import annotations

import os
import re
import sys
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from director_jobs.cli.root import root as root
    from director_jobs.services.health_check import CheckOptions, Report

# `director health check`'s options (cli/health.py) by flag: its parameter, and whether
# it repeats. A flag not here (help among them) goes to click.
_CHECK_OPTIONS = {
    "--check": ("checks", False),
    "--job": ("jobs", True),
    "--tag": ("tags", True),
    "--exclude": ("excluded", True),
    "--overdue": ("overdue", False),
    "--runner-mode": ("runner_mode", False),
    "--warning": ("warning_age", False),
    "--critical": ("critical_age", False),
}
# The root group's options that the check uses (cli/root.py) by flag: their load_settings
# keyword, which is also the variable click reads when the flag is not given.
_ROOT_OPTIONS = {
    "--db": ("database_url", False),
    "--config": ("config_path", False),
    "--timezone": ("timezone", False),
    "--containment": ("containment", False),
}
_ROOT_VARIABLES = {
    "database_url": "DIRECTOR_JOBS_DATABASE_URL",
    "config_path": "DIRECTOR_JOBS_CONFIG",
    "timezone": "DIRECTOR_JOBS_TIMEZONE",
    "containment": "DIRECTOR_JOBS_CONTAINMENT",
}
# Variables of options the plugin leaves to click: the root's -v/--debug/--trace, shell
# completion, and every option of the command (DIRECTOR_JOBS_HEALTH_CHECK_…).
_CLICK_VARIABLES = ("DIRECTOR_JOBS_VERBOSE", "DIRECTOR_JOBS_DEBUG", "DIRECTOR_JOBS_TRACE")
_CLICK_PREFIXES = ("DIRECTOR_JOBS_HEALTH_", "_DIRECTOR_COMPLETE")
# What click.echo removes from text for a stream that is not a terminal (click/_compat.py).
_ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")


def main() -> None:
    """Console-script entry point: `director health check` as a monitor runs it, else click."""
    arguments = _plugin_arguments(sys.argv[1:], os.environ)
    if arguments is not None:
        _plugin(*arguments)  # exits, unless click has to answer after all
    from director_jobs.cli.root import root

    root(prog_name="director")


def _plugin_arguments(
    argv: list[str], environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The settings and check options of `[ROOT OPTIONS] health check [OPTIONS]`, or None
    when click must read the command line: anything else, help, an unknown option, `--`,
    a value that looks like an option, a variable of an option the plugin leaves to click."""
    settings: dict[str, Any] = {}
    words = _read_options(argv, _ROOT_OPTIONS, settings)
    if words is None or words[:2] != ["health", "check"]:
        return None
    options: dict[str, Any] = {}
    if _read_options(words[2:], _CHECK_OPTIONS, options) != []:
        return None
    if any(environ.get(name) for name in _CLICK_VARIABLES) or any(
        name.startswith(_CLICK_PREFIXES) and value for name, value in environ.items()
    ):
        return None
    for name, variable in _ROOT_VARIABLES.items():
        if name not in settings:
            settings[name] = environ.get(variable) or None  # click: empty is unset
    return settings, options


def _read_options(
    words: list[str], table: dict[str, tuple[str, bool]], into: dict[str, Any]
) -> list[str] | None:
    """Read the leading `--flag VALUE` and `--flag=VALUE` words of `table` into `into`
    (a repeated flag: a tuple; else the last one counts, as in click); the words after
    them, or None at one that click must read."""
    while words and words[0].startswith("-"):
        flag, equals, value = words[0].partition("=")
        if flag not in table:
            return None
        if equals:
            words = words[1:]
        elif len(words) < 2 or words[1].startswith("-"):
            return None
        else:
            value, words = words[1], words[2:]
        name, repeats = table[flag]
        into[name] = (*into.get(name, ()), value) if repeats else value
    return words


def _plugin(settings: dict[str, Any], values: dict[str, Any]) -> None:
    """Answer the check and exit, or return when click has to: a database to open through
    SQLAlchemy (to create, migrate, explain), or a statement the driver refused."""
    from director_jobs.errors import InvalidInput
    from director_jobs.services import health_check as hc
    from director_jobs.settings import CONTAINMENTS

    if settings["containment"] not in (None, *CONTAINMENTS):
        return  # click's usage error for --containment
    try:
        options = hc.options_from(**values)
    except InvalidInput as exc:
        _finish(hc.unknown(str(exc)))
    try:
        report = hc.checked(options, lambda: _look(settings, options))
    except _ClickInstead:
        return
    _finish(report)


class _ClickInstead(Exception):
    """The plain connection cannot answer the check as cli/health.py would: click must."""


def _look(settings: dict[str, Any], options: CheckOptions) -> Report:
    """cli/health.py's check on a plain driver connection: settings, logging as
    App.start_logging sets it up, then the database, if it can be read that way."""
    import logging

    from director_jobs.clock import SystemClock
    from director_jobs.db.engine import plain_connection
    from director_jobs.logs import LEVELS, setup_logging
    from director_jobs.services import health_check as hc
    from director_jobs.settings import load_settings

    resolved = load_settings(**settings)
    setup_logging(LEVELS.get((resolved.log_level or "warning").lower(), logging.ERROR))
    plain = plain_connection(resolved.database_url)
    if plain is None:
        raise _ClickInstead
    try:
        data = hc.PlainData(plain, resolved.timezone)
        judge = hc.HealthCheck(data, SystemClock(), data, resolved.timezone, options)
        judge.refuse_unknown()
        return judge.report()
    except plain.driver.Error:
        raise _ClickInstead from None
    finally:
        plain.close()


def _finish(report: Report) -> NoReturn:
    """Print the plugin's output as click.echo would, and exit with its state."""
    text = report.text()
    if sys.stdout is not None:
        if not sys.stdout.isatty():
            text = _ANSI.sub("", text)
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    raise SystemExit(report.state)


class _Package(types.ModuleType):
    """This package, whose `root` is the click group, imported on first use."""

    @property
    def root(self) -> Any:
        """The root `director` group (cli/root.py)."""
        from director_jobs.cli.root import root

        return root

    @root.setter
    def root(self, _module: Any) -> None:
        """Ignore the import system's binding of the submodule director_jobs.cli.root:
        `root` here stays the group, as it was when this package imported it."""


sys.modules[__name__].__class__ = _Package

__all__ = ["main", "root"]
